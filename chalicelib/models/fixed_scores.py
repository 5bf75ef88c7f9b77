"""Masked top-k over per-item scores, and the model that gives every user the same scores
(popularity, trending); similar items reuses the top-k for its fill-ins. Apart from
base.py because it needs torch, which the recipe interface does not."""
from __future__ import annotations

import numpy as np
import torch

from chalicelib.models.base import Model, Scored


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
