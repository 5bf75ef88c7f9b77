"""aws-popularity-count: the most interacted items, the baseline AWS recommends comparing with.

Counts every interaction (or only those of the event type named by the `event_type`
hyperparameter), excludes what the user already interacted with, and returns scores
normalised so that the most popular item scores 1.

Also holds the small helpers every count-based recipe shares: the catalogue's item order,
item rows of the interactions, and a masked top-k.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from chalicelib.training.data import TrainingData
from chalicelib.training.recipes.base import Log, Model, Recipe, Scored, _quiet
from chalicelib.training.recipes.persistence import load_arrays, save_arrays

NAME = "aws-popularity-count"
COUNTS_FILE = "popularity.npz"
META_FILE = "popularity.json"
# Names under which a solution's event type may reach the recipe.
EVENT_TYPE_KEYS = ("event_type", "eventType", "EVENT_TYPE")


# --- helpers shared by the count-based recipes ------------------------------------------

def catalogue_ids(data: TrainingData) -> list[str]:
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
    """Row of each interaction's item in the model's order (-1 = not in the catalogue)."""
    return np.fromiter((index.get(str(i), -1) for i in item_column), dtype=np.int64,
                       count=len(item_column))


def allowed_items(size: int, mask: np.ndarray | None, excluded: list[int] = ()) -> torch.Tensor:
    allowed = torch.ones(size, dtype=torch.bool) if mask is None \
        else torch.as_tensor(np.asarray(mask, dtype=bool)).clone()
    if len(excluded):
        allowed[torch.as_tensor(list(excluded), dtype=torch.long)] = False
    return allowed


def top_scored(item_ids: list[str], scores: torch.Tensor, allowed: torch.Tensor,
               count: int) -> Scored:
    """The `count` best allowed items, best first (one vectorised topk, no sorting of the
    whole catalogue: this is the serving hot path on million-item catalogues)."""
    count = min(count, int(allowed.sum()))
    if count <= 0:
        return []
    top = torch.topk(scores.masked_fill(~allowed, float("-inf")), count)
    return [(item_ids[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]


def recommend_by_scores(item_ids, index, scores: torch.Tensor, history, num_results,
                        mask) -> Scored:
    """Non-personal recommendations: best scores, the user's own items left out (they come
    back only when the filter leaves nothing else)."""
    seen = sorted({index[i] for i in history if i in index})
    picked = top_scored(item_ids, scores, allowed_items(len(item_ids), mask, seen),
                        num_results)
    if len(picked) < num_results and seen:
        refill = allowed_items(len(item_ids), mask) & ~allowed_items(len(item_ids), None, seen)
        picked += top_scored(item_ids, scores, refill, num_results - len(picked))
    return picked


class FixedScoresModel(Model):
    """A model that gives every user the same score per item (popularity, trending):
    recommend_by_scores over them."""

    def __init__(self, item_ids: list[str], scores: np.ndarray, recipe_name: str):
        self.recipe_name = recipe_name
        self.item_ids = list(item_ids)
        self.index = {item: row for row, item in enumerate(self.item_ids)}
        self._scores = torch.from_numpy(scores).float()

    def recommend(self, user_id, history, num_results, mask=None, exploration_weight=0.3,
                  exploration_item_age_cut_off=30.0, now=None) -> Scored:
        return recommend_by_scores(self.item_ids, self.index, self._scores, history,
                                   num_results, mask)


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
        item_ids = catalogue_ids(data)
        index = {item: row for row, item in enumerate(item_ids)}
        keep = selected_events(data, event_type)
        rows = item_rows(np.asarray(data.interactions.columns.get("ITEM_ID", []))[keep], index)
        counts = np.bincount(rows[rows >= 0], minlength=len(item_ids)).astype(np.float64)
        log(f"popularity: {int(counts.sum())} interactions"
            f"{f' of type {event_type}' if event_type else ''} over {len(item_ids)} items")
        return PopularityModel(item_ids, counts, event_type, self.name)


RECIPE = PopularityRecipe()
