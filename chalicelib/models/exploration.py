"""Item statistics and the exploration side of USER_PERSONALIZATION.

AWS's user-personalization recipe spends part of every recommendation list on items it
knows little about (new, rarely shown), so that they can earn interactions, and lets
`explorationWeight` (0 = pure exploitation, 1 = maximal exploration) and
`explorationItemAgeCutOff` (days) steer that.

Here:
- `ItemStatistics` holds per-item counts refreshed by every training and update: when the
  item was first seen, time-decayed interactions (recent popularity) and time-decayed
  impressions that were not followed by a click.
- `exploration_bonus` is high for young items with little evidence and 0 past the age cut-off.
- `blend` fills each result slot from the exploitation order, or, with probability
  `exploration_weight`, by sampling an item from the exploration distribution
  (bonus x the user's tempered affinity from the personal model). Scores are the mixture probabilities
  (1 - w) * p_exploit + w * q_explore, so they stay in [0, 1].
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

SECONDS_PER_DAY = 86400.0
# Exploration favours items the user may like: p_personal ** AFFINITY_POWER flattens the
# model's confidence so that exploration still reaches beyond the top items.
AFFINITY_POWER = 0.5


@dataclass
class ItemStatistics:
    first_seen: np.ndarray             # float64 seconds; NaN = unknown (treated as new)
    popularity: np.ndarray             # float32, time-decayed interaction counts
    unclicked_impressions: np.ndarray  # float32, time-decayed impressions without a click

    def arrays(self) -> dict[str, np.ndarray]:
        return {"first_seen": self.first_seen, "popularity": self.popularity,
                "unclicked_impressions": self.unclicked_impressions}

    @classmethod
    def empty(cls, size: int) -> "ItemStatistics":
        return cls(np.full(size, np.nan), np.zeros(size, np.float32), np.zeros(size, np.float32))


def decay_weights(timestamps: np.ndarray, reference: float, half_life_days: float) -> np.ndarray:
    if half_life_days <= 0 or not np.isfinite(half_life_days):
        return np.ones(len(timestamps), dtype=np.float64)
    age = np.maximum(reference - timestamps, 0.0) / (half_life_days * SECONDS_PER_DAY)
    return np.power(0.5, age)


def compute_item_statistics(index: dict[str, int], interactions, items,
                            half_life_days: float,
                            previous: ItemStatistics | None = None) -> ItemStatistics:
    """Statistics over all of `interactions` for the items in `index` (id -> row)."""
    size = len(index)
    stats = ItemStatistics.empty(size)
    if previous is not None:
        stats.first_seen[:len(previous.first_seen)] = previous.first_seen
    columns = interactions.columns
    users = np.asarray(columns.get("USER_ID", []), dtype=object).astype(str)
    item_col = np.asarray(columns.get("ITEM_ID", []), dtype=object).astype(str)
    stamps = np.asarray(columns.get("TIMESTAMP", []), dtype=np.float64)
    rows = np.array([index.get(i, -1) for i in item_col], dtype=np.int64)
    known = rows >= 0
    reference = float(np.nanmax(stamps)) if len(stamps) else time.time()
    weights = decay_weights(stamps, reference, half_life_days)
    np.add.at(stats.popularity, rows[known], weights[known].astype(np.float32))
    # first seen: creation timestamp when the catalogue has one, else first interaction
    if len(rows[known]):
        first = np.full(size, np.inf)
        np.minimum.at(first, rows[known], stamps[known])
        seen = np.isfinite(first)
        stats.first_seen[seen] = np.fmin(stats.first_seen[seen], first[seen])
    if items is not None and "CREATION_TIMESTAMP" in items.columns and "ITEM_ID" in items.columns:
        created = np.asarray(items.columns["CREATION_TIMESTAMP"], dtype=np.float64)
        for item, stamp in zip(items.columns["ITEM_ID"], created):
            row = index.get(str(item), -1)
            if row >= 0 and np.isfinite(stamp):
                stats.first_seen[row] = stamp
    impressions = columns.get("IMPRESSION")
    if impressions is not None and len(impressions):
        clicked = set(zip(users.tolist(), item_col.tolist()))
        unclicked = stats.unclicked_impressions
        for user, item, shown, weight in zip(users, item_col, impressions, weights):
            if not shown or not isinstance(shown, str):
                continue
            for other in shown.split("|"):
                row = index.get(other, -1)
                if row >= 0 and other != item and (user, other) not in clicked:
                    unclicked[row] += weight
    return stats


def exploration_bonus(stats: ItemStatistics, now: float | None,
                      age_cut_off_days: float) -> np.ndarray:
    """In [0, 1]: 1 for a brand-new item nobody has seen, shrinking with evidence
    (interactions and ignored impressions) and with age; 0 past the age cut-off."""
    now = time.time() if now is None else now
    first_seen = np.where(np.isnan(stats.first_seen), now, stats.first_seen)
    age_days = np.maximum(now - first_seen, 0.0) / SECONDS_PER_DAY
    cut_off = max(float(age_cut_off_days), 1e-9)
    age_factor = np.where(age_days <= cut_off, 1.0 - 0.5 * (age_days / cut_off), 0.0)
    evidence = stats.popularity.astype(np.float64) + stats.unclicked_impressions
    return (age_factor / np.sqrt(1.0 + evidence)).astype(np.float32)


def exploration_distribution(bonus: np.ndarray, affinity: torch.Tensor,
                             candidates: torch.Tensor) -> torch.Tensor | None:
    """q over items (sums to 1), or None when no candidate is worth exploring.

    affinity: the user's log-preferences (log-probabilities from the personal model, 0 for
    a user we know nothing about). Popularity is deliberately not part of it: exploring is
    about the items popularity knows least about."""
    tempered = torch.softmax(AFFINITY_POWER * affinity.float(), dim=0)
    weights = torch.from_numpy(bonus) * tempered * candidates
    total = weights.sum()
    if not torch.isfinite(total) or total <= 0:
        return None
    return weights / total


def sparse_exploration_distribution(rows: np.ndarray, bonus: np.ndarray,
                                    affinity: np.ndarray, size: int) -> torch.Tensor | None:
    """exploration_distribution over `size` rows whose bonus is zero except at `rows`
    (`bonus` and `affinity` aligned with them; the rows allowed): the retrieval path's draw
    counts. The softmax normaliser of the tempered affinity cancels in bonus x tempered /
    total, so only those rows are computed, not a softmax over every candidate row."""
    if not len(rows):
        return None
    tempered = AFFINITY_POWER * affinity.astype(np.float64)
    weights = bonus * np.exp(tempered - tempered.max())
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return None
    out = np.zeros(size, dtype=np.float32)
    out[rows] = weights / total
    return torch.from_numpy(out)


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest values, largest first (ties: lower index first)."""
    if count < len(values):
        part = np.argpartition(-values, count - 1)[:count]
    else:
        part = np.arange(len(values))
    return part[np.lexsort((part, -values[part]))]


def blend(exploit: torch.Tensor, explore: torch.Tensor | None, weight: float,
          candidates: torch.Tensor, num_results: int,
          generator: torch.Generator) -> list[tuple[int, float]]:
    """(item index, score) for up to num_results candidates, in slot order. The arrays are
    worked on in numpy (a request's are 17k long on the retrieval path, where each torch
    call cost 50-100 us); the random numbers still come from the request's generator."""
    exploit = exploit.detach().numpy()
    allowed = candidates.numpy()
    available = int(np.count_nonzero(allowed))
    count = min(num_results, available)
    if count <= 0:
        return []
    weight = float(min(max(weight, 0.0), 1.0)) if explore is not None else 0.0
    masked = np.where(allowed, exploit, np.float32(-1.0))
    if weight <= 0:
        return [(i, float(exploit[i])) for i in _top(masked, count).tolist()]
    explore = explore.detach().numpy()
    explore_slots = (torch.rand(count, generator=generator) < weight).tolist()
    # drawn over the items exploration can reach only: multinomial without replacement
    # costs O(categories), and on the retrieval path a few hundred of ~17k rows are nonzero
    support = np.flatnonzero(explore > 0)
    wanted = min(sum(explore_slots), len(support))
    picks = support[torch.multinomial(torch.from_numpy(explore[support]), wanted,
                                      replacement=False, generator=generator).numpy()
                    ].tolist() if wanted else []
    # enough exploitation items to fill every slot even if exploration took some of them
    exploit_order = _top(masked, min(available, count + len(picks))).tolist()
    chosen: list[int] = []
    taken: set[int] = set()
    exploit_iter = iter(exploit_order)
    for slot_explores in explore_slots:
        item = None
        while slot_explores and picks and item is None:
            candidate = picks.pop(0)
            if candidate not in taken:
                item = candidate
        while item is None:
            candidate = next(exploit_iter, None)
            if candidate is None:
                break
            if candidate not in taken:
                item = candidate
        if item is None:
            break
        taken.add(item)
        chosen.append(item)
    mixture = (1.0 - weight) * exploit[chosen] + weight * explore[chosen]
    return list(zip(chosen, mixture.tolist()))
