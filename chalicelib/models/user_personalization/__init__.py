"""aws-user-personalization (and -v2): a GRU over each user's item sequence.

Items are represented by z_i = W [e_i ; f_i]: a learned ID embedding e_i and the item's
metadata features f_i (item_features.py: categorical, numerical, text). A GRU reads the
user's latest `bptt` items (as z vectors) and its last state h_u scores every item:
s_i = z_i . h_u + b_i. Training predicts each next item with an importance-sampled softmax
(sampling.py) above FULL_SOFTMAX_BELOW items, the exact softmax below it. During training
the ID embedding is dropped for a random share of items so that the model also learns to
score items from metadata alone: that is what lets cold items (no interactions) rank.

Serving (`recommend`) blends the GRU's softmax with recent popularity for users with short
histories, excludes the user's own history, applies the filter mask and spends a share of
the slots on exploration (exploration.py). `update` folds in new items and refreshes the
statistics without touching the GRU.
"""
from chalicelib.models.user_personalization.model import (  # noqa: F401
    NAME, UserPersonalizationModel)
from chalicelib.models.user_personalization.network import SequenceNetwork  # noqa: F401
from chalicelib.models.user_personalization.recipe import (  # noqa: F401
    RECIPE, UserPersonalizationRecipe)
from chalicelib.models.user_personalization.sequences import (  # noqa: F401
    WindowBuilder, Windows, build_windows)
from chalicelib.models.user_personalization.settings import (  # noqa: F401
    DEFAULT_HYPERPARAMETERS, TrainingSettings)
from chalicelib.models.user_personalization.trainer import Trainer  # noqa: F401

__all__ = ["NAME", "RECIPE", "DEFAULT_HYPERPARAMETERS", "TrainingSettings",
           "SequenceNetwork", "Trainer", "UserPersonalizationModel",
           "UserPersonalizationRecipe", "WindowBuilder", "Windows", "build_windows"]
