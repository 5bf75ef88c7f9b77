"""solutionConfig.optimizationObjective: recommendations moved toward items with a higher
value of a numerical Items column (itemAttribute), more strongly as objectiveSensitivity
rises (OFF, LOW, MEDIUM, HIGH).

How: the model's blended log-probability of each item gets a boost of
SENSITIVITY_WEIGHTS[sensitivity] x the item's attribute percentile (0 for the lowest value
or no value, 1 for the highest). A percentile rather than the raw value: prices and
lengths are heavy-tailed, and a few extreme items must not take every slot. The boost is
in log-probability units, so it trades a bounded amount of relevance: an item needs a
probability within a factor exp(weight) of another's to overtake it
(bench/objective_optimisation.py measures the cost per level).

The training task passes the objective to recipes as two hyperparameters
(OBJECTIVE_ATTRIBUTE, OBJECTIVE_SENSITIVITY), so the Recipe contract stays as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chalicelib.models.data import Table

OBJECTIVE_ATTRIBUTE = "optimization_objective_item_attribute"
OBJECTIVE_SENSITIVITY = "optimization_objective_sensitivity"
# Log-probability boost of the item with the highest attribute value, per sensitivity.
SENSITIVITY_WEIGHTS = {"OFF": 0.0, "LOW": 0.5, "MEDIUM": 1.5, "HIGH": 4.0}
# The recipes that can optimise for an objective (AWS: User-Personalization and
# Personalized-Ranking).
OBJECTIVE_RECIPES = ("aws-user-personalization", "aws-user-personalization-v2",
                     "aws-personalized-ranking", "aws-personalized-ranking-v2")


@dataclass
class Objective:
    item_attribute: str       # upper-cased Items column
    sensitivity: str          # OFF | LOW | MEDIUM | HIGH

    @property
    def weight(self) -> float:
        return SENSITIVITY_WEIGHTS.get(self.sensitivity, 0.0)

    def to_json(self) -> dict:
        return {"itemAttribute": self.item_attribute, "objectiveSensitivity": self.sensitivity}

    @classmethod
    def from_json(cls, doc: dict | None) -> "Objective | None":
        if not doc:
            return None
        return cls(str(doc["itemAttribute"]).upper(), str(doc["objectiveSensitivity"]).upper())

    def boost(self, items: Table | None, item_ids: list[str]) -> np.ndarray:
        """weight x attribute percentile, per item of `item_ids` (float32)."""
        return (self.weight * attribute_percentiles(
            attribute_values(items, self.item_attribute, item_ids))).astype(np.float32)


def objective_hyperparameters(solution_config: dict | None) -> dict[str, str]:
    """The hyperparameters that carry solutionConfig.optimizationObjective to a recipe."""
    objective = (solution_config or {}).get("optimizationObjective") or {}
    if not objective.get("itemAttribute"):
        return {}
    return {OBJECTIVE_ATTRIBUTE: str(objective["itemAttribute"]),
            OBJECTIVE_SENSITIVITY: str(objective.get("objectiveSensitivity") or "LOW")}


def parse_objective(hyperparameters: dict | None) -> Objective | None:
    values = hyperparameters or {}
    if not values.get(OBJECTIVE_ATTRIBUTE):
        return None
    return Objective.from_json({"itemAttribute": values[OBJECTIVE_ATTRIBUTE],
                                "objectiveSensitivity": values.get(OBJECTIVE_SENSITIVITY,
                                                                   "LOW")})


def attribute_values(items: Table | None, attribute: str, item_ids: list[str]) -> np.ndarray:
    """The attribute per item of `item_ids` (float64; NaN where an item has no value)."""
    out = np.full(len(item_ids), np.nan)
    if items is None or attribute not in items.columns or "ITEM_ID" not in items.columns:
        return out
    position = {item: row for row, item in enumerate(item_ids)}
    for item, value in zip(items.columns["ITEM_ID"], items.columns[attribute]):
        row = position.get(str(item))
        if row is not None:
            try:
                out[row] = float(value)
            except (TypeError, ValueError):
                pass
    out[~np.isfinite(out)] = np.nan
    return out


def attribute_percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's rank among the known values, scaled to [0, 1] (ties share the mean
    rank); 0 where there is no value."""
    out = np.zeros(len(values))
    known = np.flatnonzero(~np.isnan(values))
    if len(known) < 2:
        return out
    ordered = values[known]
    low = np.searchsorted(np.sort(ordered), ordered, side="left")
    high = np.searchsorted(np.sort(ordered), ordered, side="right") - 1
    out[known] = (low + high) / 2 / (len(known) - 1)
    return out


def average_rewards_at_k(ranked_lists: list[list[str]], relevant_lists: list[list[str]],
                         rewards: dict[str, float], k: int = 25) -> float:
    """AWS's average_rewards_at_k: per test user, the rewards (attribute values) of the
    items they went on to interact with that are among their top k recommendations, over
    the rewards of all the items they interacted with; averaged over users (those whose
    interactions earn nothing are left out), so the value lies in [0, 1]."""
    per_user = []
    for ranked, relevant in zip(ranked_lists, relevant_lists):
        earned = {item: max(rewards.get(item, 0.0), 0.0) for item in relevant}
        total = sum(earned.values())
        if total <= 0:
            continue
        top = set(ranked[:k])
        per_user.append(sum(v for item, v in earned.items() if item in top) / total)
    return float(np.mean(per_user)) if per_user else 0.0
