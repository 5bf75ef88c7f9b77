"""aws-popularity-count: the most interacted items, the baseline AWS recommends comparing with.

Counts every interaction (or only those of the event type named by the `event_type`
hyperparameter), excludes what the user already interacted with, and returns scores
normalised so that the most popular item scores 1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from chalicelib.models.base import (Log, Model, Recipe, _quiet, event_type_of, item_rows,
                                    known_item_ids, selected_events)
from chalicelib.models.data import TrainingData
from chalicelib.models.fixed_scores import FixedScoresModel
from chalicelib.models.persistence import load_arrays, save_arrays

NAME = "aws-popularity-count"
COUNTS_FILE = "popularity.npz"
META_FILE = "popularity.json"


# --- the recipe ---------------------------------------------------------------------------

class PopularityModel(FixedScoresModel):
    recipe_name = NAME

    def __init__(self, item_ids: list[str], counts: np.ndarray, event_type: str | None,
                 recipe_name: str = NAME):
        self.counts = np.asarray(counts, dtype=np.float64)
        self.event_type = event_type
        top = self.counts.max() if len(self.counts) else 0.0
        super().__init__(item_ids, self.counts / top if top > 0 else self.counts, recipe_name)

    def save(self, directory: Path) -> None:
        save_arrays(directory, COUNTS_FILE, META_FILE, {"counts": self.counts}, {
            "recipe": self.recipe_name, "item_ids": self.item_ids,
            "event_type": self.event_type})

    @classmethod
    def load(cls, directory: Path) -> "PopularityModel":
        meta, arrays = load_arrays(directory, COUNTS_FILE, META_FILE)
        return cls(meta["item_ids"], arrays["counts"], meta["event_type"], meta["recipe"])


class PopularityRecipe(Recipe):
    name = NAME
    recipe_type = "USER_PERSONALIZATION"
    default_hyperparameters: dict[str, str] = {}
    model_class = PopularityModel

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> PopularityModel:
        return self._fit(data, event_type_of(hyperparameters), log)

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        return self._fit(data, getattr(model, "event_type", None), log)

    def _fit(self, data: TrainingData, event_type: str | None, log: Log) -> PopularityModel:
        item_ids = known_item_ids(data)
        index = {item: row for row, item in enumerate(item_ids)}
        keep = selected_events(data, event_type)
        rows = item_rows(np.asarray(data.interactions.columns.get("ITEM_ID", []))[keep], index)
        counts = np.bincount(rows[rows >= 0], minlength=len(item_ids)).astype(np.float64)
        log(f"popularity: {int(counts.sum())} interactions"
            f"{f' of type {event_type}' if event_type else ''} over {len(item_ids)} items")
        return PopularityModel(item_ids, counts, event_type, self.name)


RECIPE = PopularityRecipe()
