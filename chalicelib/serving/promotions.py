"""Promotions (GetRecommendations `promotions`), placed as AWS documents them: a share of
the results comes from the promotion's filter; promoted items sit at random positions
among the others but keep their own relative order; if too few items match, there are as
many promoted items as there can be, and the rest are regular recommendations."""
from __future__ import annotations

import math
import random

Scored = list[tuple[str, float]]


def promoted_count(num_results: int, percent: int) -> int:
    """How many of the results the promotion takes: the percentage of numResults, rounded
    down but at least one whenever there are results (a promotion always shows)."""
    if num_results <= 0:
        return 0
    return min(num_results, max(1, math.floor(num_results * percent / 100)))


def merge(regular: Scored, promoted: Scored, promotion_name: str, num_results: int,
          rng: random.Random | None = None) -> list[dict]:
    """Result items: promoted ones (with promotionName) at random sorted slots."""
    rng = rng or random
    promoted = promoted[:num_results]
    total = min(num_results, len(regular) + len(promoted))
    slots = set(rng.sample(range(total), min(len(promoted), total)))
    regular_iter, promoted_iter = iter(regular), iter(promoted)
    out = []
    for position in range(total):
        if position in slots:
            item, score = next(promoted_iter)
            out.append({"itemId": item, "score": score, "promotionName": promotion_name})
        else:
            item, score = next(regular_iter)
            out.append({"itemId": item, "score": score})
    return out
