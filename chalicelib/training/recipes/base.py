"""The recipe interface every model plugs into (see docs/ARCHITECTURE.md)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import numpy as np

from chalicelib.training.data import TrainingData

Log = Callable[[str], None]
Scored = list[tuple[str, float]]


def _quiet(_: str) -> None:
    pass


class Model(ABC):
    """A trained model: what a campaign serves. Item order is fixed by `item_ids`; masks
    (filters) are boolean arrays aligned with it, True meaning 'may be recommended'."""
    recipe_name: str
    item_ids: list[str]
    # Interactions context fields the model learned (DEVICE, ...). When there are any,
    # recommend and rank also take `context` (the request's {FIELD: value}) and
    # `history_context` (one such map per history event, aligned with `history`).
    context_fields: tuple[str, ...] = ()

    @abstractmethod
    def save(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> "Model": ...

    def recommend(self, user_id: str | None, history: list[str], num_results: int,
                  mask: np.ndarray | None = None, exploration_weight: float = 0.3,
                  exploration_item_age_cut_off: float = 30.0,
                  now: float | None = None) -> Scored:
        """USER_PERSONALIZATION: items for a user whose history (oldest first) includes
        live events received after training."""
        raise NotImplementedError(f"{self.recipe_name} does not recommend for users")

    def rank(self, user_id: str | None, history: list[str], item_ids: list[str]) -> Scored:
        """PERSONALIZED_RANKING: the given items re-ordered for the user."""
        raise NotImplementedError(f"{self.recipe_name} does not rank")

    def related_items(self, item_id: str, num_results: int,
                      mask: np.ndarray | None = None) -> Scored:
        """RELATED_ITEMS: items similar to item_id."""
        raise NotImplementedError(f"{self.recipe_name} does not give related items")


class Recipe(ABC):
    name: str            # e.g. 'aws-user-personalization'
    recipe_type: str     # USER_PERSONALIZATION | RELATED_ITEMS | PERSONALIZED_RANKING
    default_hyperparameters: dict[str, str] = {}
    model_class: type[Model]

    def variant(self, name: str) -> "Recipe":
        """The same algorithm under another recipe name (v1/v2 pairs)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.name = name
        return clone

    @property
    def arn(self) -> str:
        return f"arn:aws:personalize:::recipe/{self.name}"

    @abstractmethod
    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> Model: ...

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        """trainingMode UPDATE and automatic updates: fold in new items and fresh statistics
        without retraining from scratch. Recipes without an incremental path retrain."""
        return self.train(data, {}, log=log)
