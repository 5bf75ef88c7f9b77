"""A trained or updated model is checked before anything serves it.

One NaN or infinite learned number makes scores NaN (no JSON number at all) and the order
of recommendations meaningless, and nothing downstream could tell. So training fails the
version, and an automatic update keeps the previous model, when a model's learned
numbers or the scores it gives a few users are not finite.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from chalicelib.errors import JobFailure

PROBE_USERS = 3
PROBE_RESULTS = 50


class UnusableModelError(JobFailure):
    """The model came out with non-finite numbers; its message is the failureReason."""


def check_model(model, histories: dict[str, list[str]] | None = None) -> None:
    """UnusableModelError naming where the non-finite numbers are."""
    bad = non_finite_parts(model) or _non_finite_scores(model, histories or {})
    if bad:
        raise UnusableModelError(
            "Training produced a model with numbers that are not finite (NaN or infinity) "
            f"in {', '.join(bad[:3])}, so it is not served. Try a lower learning_rate or "
            "fewer epochs, and check the data for extreme values.")


def non_finite_parts(model) -> list[str]:
    """Names of the model's arrays, tensors and network weights holding NaN or infinity
    (its own attributes; nested statistics may hold NaN as 'unknown' on purpose)."""
    torch = sys.modules.get("torch")   # only a model built with torch can hold tensors
    parts = []
    for name, value in vars(model).items():
        if torch is not None and isinstance(value, torch.nn.Module):
            parts += [f"{name}.{key}" for key, tensor in value.state_dict().items()
                      if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
        elif torch is not None and isinstance(value, torch.Tensor):
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                parts.append(name)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            if not np.isfinite(value).all():
                parts.append(name)
    return parts


def _non_finite_scores(model, histories: dict[str, list[str]]) -> list[str]:
    """Scores for a few users (and a user with no history) through the model's own API."""
    items = list(model.item_ids)
    if not items:
        return []
    users = [(None, [])] + list(histories.items())[:PROBE_USERS]
    count = min(PROBE_RESULTS, len(items))
    for user, history in users:
        scored = _scores(model, user, history, items, count)
        if any(not math.isfinite(float(score)) for _, score in scored):
            return ["the scores it gives"]
    return []


def _scores(model, user, history, items, count):
    try:
        return model.recommend(user, history, count, exploration_weight=0.0)
    except NotImplementedError:
        pass
    try:
        return model.rank(user, history, items[:count])
    except NotImplementedError:
        pass
    try:
        return model.related_items(history[-1] if history else items[0], count)
    except NotImplementedError:
        return []
