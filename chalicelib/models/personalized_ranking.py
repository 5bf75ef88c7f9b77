"""aws-personalized-ranking (and -v2): the given items re-ordered for a user.

AWS builds Personalized-Ranking on the same hierarchical-RNN family as User-Personalization
and documents the same hyperparameters (hidden_dimension, bptt, recency_mask, history
percentiles), so this recipe trains the very same sequence model
(user_personalization.py: a GRU over the user's items, sampled softmax on large catalogues)
and serves `rank`: the model's probability of each candidate as the user's next item,
renormalised over the candidates. Ranking has no exploration: a ranked list is the model's
best guess, in full.
"""
from __future__ import annotations

from chalicelib.models.data import TrainingData
from chalicelib.models.base import Log, Model, Scored, _quiet
from chalicelib.models.user_personalization import (DEFAULT_HYPERPARAMETERS,
                                                    UserPersonalizationModel,
                                                    UserPersonalizationRecipe)

NAME = "aws-personalized-ranking"


class PersonalizedRankingModel(UserPersonalizationModel):
    recipe_name = NAME

    def recommend(self, *args, **kwargs) -> Scored:
        raise NotImplementedError(f"{self.recipe_name} ranks given items; it does not "
                                  f"recommend from the catalogue")


def _as_ranking_model(model: UserPersonalizationModel, name: str) -> PersonalizedRankingModel:
    model.__class__ = PersonalizedRankingModel  # same state, ranking behaviour
    model.recipe_name = name
    return model


class PersonalizedRankingRecipe(UserPersonalizationRecipe):
    name = NAME
    recipe_type = "PERSONALIZED_RANKING"
    default_hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    model_class = PersonalizedRankingModel

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> PersonalizedRankingModel:
        return _as_ranking_model(super().train(data, hyperparameters, seed, log), self.name)

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        return _as_ranking_model(super().update(model, data, log), self.name)


RECIPE = PersonalizedRankingRecipe()
