"""The recipe interface every model plugs into (see docs/ARCHITECTURE.md), and the small
helpers the recipes share: the items a model knows, event-type selection, item rows."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import numpy as np

from chalicelib.models.data import TrainingData

Log = Callable[[str], None]
Scored = list[tuple[str, float]]
# Names under which a solution's event type may reach the recipe.
EVENT_TYPE_KEYS = ("event_type", "eventType", "EVENT_TYPE")


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

    def prepare(self, histories: dict[str, list[str]]) -> None:
        """After a load, in the background: precompute per-user serving state for these
        histories (the training data's), so that their first requests do not pay for it.
        Optional; answers must not depend on whether it ran (beyond float rounding: a
        state computed in a batch may differ in its last bits)."""


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


# --- helpers shared by the recipes --------------------------------------------------------

def known_item_ids(data: TrainingData) -> list[str]:
    """Every item the model knows, sorted: interacted items plus Items-dataset items."""
    ids = set(map(str, data.interactions.columns.get("ITEM_ID", [])))
    if data.items is not None and "ITEM_ID" in data.items.columns:
        ids.update(map(str, data.items.columns["ITEM_ID"]))
    return sorted(ids)


def event_type_of(hyperparameters: dict[str, str] | None) -> str | None:
    for key in EVENT_TYPE_KEYS:
        value = (hyperparameters or {}).get(key)
        if value not in (None, ""):
            return str(value)
    return None


def selected_events(data: TrainingData, event_type: str | None) -> np.ndarray:
    """Boolean per interaction: counts toward the model (all, or one event type)."""
    size = len(data.interactions)
    types = data.interactions.columns.get("EVENT_TYPE")
    if event_type is None or types is None:
        return np.ones(size, dtype=bool)
    return np.asarray(types, dtype=object).astype(str) == event_type


def item_rows(item_column, index: dict[str, int]) -> np.ndarray:
    """Row of each interaction's item in the model's order (-1 = not a known item)."""
    return np.fromiter((index.get(str(i), -1) for i in item_column), dtype=np.int64,
                       count=len(item_column))
