"""aws-user-personalization (a GRU) and aws-user-personalization-v2 (causal self-attention)
over each user's item sequence.

Items are represented by z_i = W [e_i ; f_i]: a learned ID embedding e_i and the item's
metadata features f_i (item_features.py: categorical, numerical, text). The sequence model
(network.py: the GRU for v1, pre-LN transformer blocks with learned positions for v2) reads
the user's latest `bptt` items (as z vectors) and its last state h_u scores every item:
s_i = z_i . h_u + b_i. Training predicts each next item with an importance-sampled softmax
(sampling.py) above FULL_SOFTMAX_BELOW items, the exact softmax below it. During training
the ID embedding is dropped for a random share of items so that the model also learns to
score items from metadata alone: that is what lets cold items (no interactions) rank.
The number of epochs is picked on each sampled user's held-out latest event
(validation.py: early stopping with patience, the best epoch kept).

Serving (`recommend`) blends the sequence model's softmax with recent popularity for users with short
histories, excludes the user's own history, applies the filter mask and spends a share of
the slots on exploration (exploration.py). `update` folds in new items and refreshes the
statistics without touching the sequence model.
"""
from chalicelib.training.recipes.user_personalization.model import (  # noqa: F401
    NAME, NAME_V2, UserPersonalizationModel)
from chalicelib.training.recipes.user_personalization.network import (  # noqa: F401
    AttentionNetwork, SequenceNetwork)
from chalicelib.training.recipes.user_personalization.recipe import (  # noqa: F401
    RECIPE, RECIPE_V2, RECIPES, UserPersonalizationRecipe, UserPersonalizationV2Recipe)
from chalicelib.training.recipes.user_personalization.sequences import (  # noqa: F401
    WindowBuilder, Windows, build_windows)
from chalicelib.training.recipes.user_personalization.settings import (  # noqa: F401
    DEFAULT_HYPERPARAMETERS, V2_DEFAULT_HYPERPARAMETERS, Settings)
from chalicelib.training.recipes.user_personalization.trainer import Trainer  # noqa: F401

__all__ = ["NAME", "NAME_V2", "RECIPE", "RECIPE_V2", "RECIPES", "DEFAULT_HYPERPARAMETERS",
           "V2_DEFAULT_HYPERPARAMETERS", "Settings", "AttentionNetwork", "SequenceNetwork",
           "Trainer", "UserPersonalizationModel", "UserPersonalizationRecipe",
           "UserPersonalizationV2Recipe", "WindowBuilder", "Windows", "build_windows"]
