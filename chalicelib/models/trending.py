"""aws-trending-now: items whose interactions grow fastest.

The data's timeline is cut into windows of `trend_discovery_frequency` ("30 minutes",
"1 hour", "3 hours" or "1 day", as AWS offers) ending at the latest interaction. An item's
trend compares its count in the latest window with the one before:

    trend_i = (recent_i - earlier_i) / (earlier_i + smoothing)

`smoothing` is the mean count of an active item in the earlier window, so that an item
going from 0 to 1 interaction does not outrank one going from 50 to 150: growth is relative
but needs volume. Risers come first; the rest follow by recent popularity. With no
interactions in the last two windows AWS falls back to popularity, and so do we.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from chalicelib.models.data import TrainingData
from chalicelib.models.base import (Log, Model, Recipe, _quiet, event_type_of, item_rows,
                                    known_item_ids, selected_events)
from chalicelib.models.persistence import load_arrays, save_arrays
from chalicelib.models.fixed_scores import FixedScoresModel

NAME = "aws-trending-now"
STATE_FILE = "trending.npz"
META_FILE = "trending.json"
DEFAULT_FREQUENCY = "1 day"
DEFAULT_HYPERPARAMETERS = {"trend_discovery_frequency": DEFAULT_FREQUENCY}
_UNIT_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
# share of the score range reserved for risers; non-risers are ordered below them
RISER_SHARE = 0.9


def frequency_seconds(text: str) -> float:
    """'30 minutes' | '1 hour' | '3 hours' | '1 day' (any 'N unit[s]') -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(minute|hour|day)s?\s*", str(text).lower())
    if not match:
        raise ValueError(f"trend_discovery_frequency must look like '30 minutes', '1 hour', "
                         f"'3 hours' or '1 day', not {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def trend_scores(rows: np.ndarray, stamps: np.ndarray, size: int,
                 window: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score in [0, 1], recent counts, earlier counts) per item row."""
    if len(rows) == 0:
        zero = np.zeros(size)
        return zero, zero, zero
    end = float(stamps.max())
    recent_mask = stamps > end - window
    earlier_mask = (stamps > end - 2 * window) & ~recent_mask
    recent = np.bincount(rows[recent_mask], minlength=size).astype(np.float64)
    earlier = np.bincount(rows[earlier_mask], minlength=size).astype(np.float64)
    total = np.bincount(rows, minlength=size).astype(np.float64)
    if recent.sum() + earlier.sum() == 0:  # nothing lately: popularity only
        return total / max(total.max(), 1.0), recent, earlier
    active = earlier > 0
    smoothing = earlier[active].mean() if active.any() else 1.0
    growth = (recent - earlier) / (earlier + smoothing)
    # popularity (recent first, then all-time) orders items that are not rising
    popularity = recent + total / (total.max() + 1.0)
    rest = (1 - RISER_SHARE) * popularity / max(popularity.max(), 1e-12)
    rising = growth > 0
    score = rest.copy()
    if rising.any():
        score[rising] = (1 - RISER_SHARE) + RISER_SHARE * growth[rising] / growth[rising].max()
    return score, recent, earlier


class TrendingModel(FixedScoresModel):
    recipe_name = NAME

    def __init__(self, item_ids: list[str], scores: np.ndarray, frequency: str,
                 event_type: str | None, recipe_name: str = NAME):
        self.trend = np.asarray(scores, dtype=np.float64)
        self.frequency = frequency
        self.event_type = event_type
        super().__init__(item_ids, self.trend, recipe_name)

    def save(self, directory: Path) -> None:
        save_arrays(directory, STATE_FILE, META_FILE, {"scores": self.trend}, {
            "recipe": self.recipe_name, "item_ids": self.item_ids,
            "frequency": self.frequency, "event_type": self.event_type})

    @classmethod
    def load(cls, directory: Path) -> "TrendingModel":
        meta, arrays = load_arrays(directory, STATE_FILE, META_FILE)
        return cls(meta["item_ids"], arrays["scores"], meta["frequency"], meta["event_type"],
                   meta["recipe"])


class TrendingRecipe(Recipe):
    name = NAME
    recipe_type = "USER_PERSONALIZATION"
    default_hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    model_class = TrendingModel

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> TrendingModel:
        frequency = (hyperparameters or {}).get("trend_discovery_frequency") or DEFAULT_FREQUENCY
        return self._fit(data, str(frequency), event_type_of(hyperparameters), log)

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        """New interactions move the windows: recompute (it is one pass of counting)."""
        return self._fit(data, getattr(model, "frequency", DEFAULT_FREQUENCY),
                         getattr(model, "event_type", None), log)

    def _fit(self, data, frequency: str, event_type: str | None, log: Log) -> TrendingModel:
        window = frequency_seconds(frequency)
        item_ids = known_item_ids(data)
        index = {item: row for row, item in enumerate(item_ids)}
        keep = selected_events(data, event_type)
        columns = data.interactions.columns
        rows = item_rows(np.asarray(columns.get("ITEM_ID", []))[keep], index)
        stamps = np.asarray(columns.get("TIMESTAMP", []), dtype=np.float64)[keep]
        known = rows >= 0
        scores, recent, earlier = trend_scores(rows[known], stamps[known], len(item_ids),
                                               window)
        log(f"trending: windows of {frequency}: {int(recent.sum())} recent and "
            f"{int(earlier.sum())} earlier interactions, {int((recent > earlier).sum())} risers")
        return TrendingModel(item_ids, scores, frequency, event_type, self.name)


RECIPE = TrendingRecipe()
