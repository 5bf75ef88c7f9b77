"""From an interactions table to training windows: user filtering by history length,
impression negatives, and each user's events cut into `bptt`-long windows."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from chalicelib.models.user_personalization.settings import TrainingSettings


def kept_users(user_codes: np.ndarray, settings: TrainingSettings) -> np.ndarray:
    """Boolean per event: its user's history length lies within the percentile bounds."""
    _, inverse, counts = np.unique(user_codes, return_inverse=True, return_counts=True)
    low = np.quantile(counts, min(max(settings.min_percentile, 0.0), 1.0))
    high = np.quantile(counts, min(max(settings.max_percentile, 0.0), 1.0))
    keep_user = (counts >= low) & (counts <= high)
    if not keep_user.any():  # tiny data: never filter everything away
        keep_user[:] = True
    return keep_user[inverse]


def impression_negatives(interactions, index: dict[str, int], limit: int) -> np.ndarray:
    """[events, limit] item rows shown with each event but never interacted by that user
    (-1 = none): explicit negatives for the event's prediction."""
    size = len(interactions)
    out = np.full((size, max(limit, 0)), -1, dtype=np.int64)
    shown_column = interactions.columns.get("IMPRESSION")
    if shown_column is None or limit <= 0:
        return out
    users = np.asarray(interactions.columns["USER_ID"], dtype=object).astype(str)
    items = np.asarray(interactions.columns["ITEM_ID"], dtype=object).astype(str)
    clicked = set(zip(users.tolist(), items.tolist()))
    for event, shown in enumerate(shown_column):
        if not shown or not isinstance(shown, str):
            continue
        user, item, filled = users[event], items[event], 0
        for other in shown.split("|"):
            row = index.get(other, -1)
            if row >= 0 and other != item and (user, other) not in clicked:
                out[event, filled] = row
                filled += 1
                if filled == limit:
                    break
    return out


@dataclass
class Windows:
    """Truncated sequences: inputs[w, t] predicts targets[w, t] (-1 = padding)."""
    inputs: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    hard_negatives: torch.Tensor  # [W, T, K]
    # context codes [W, T, fields] (context.py) of each input event and of each target
    # event; None when the interactions have no context fields
    input_context: torch.Tensor | None = None
    target_context: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.inputs.shape[0]


class WindowBuilder:
    """Cuts each user's time-ordered events into windows of `bptt` steps (vectorised).

    The events are sorted once; `windows(shift)` then cuts them. With a shift, every user's
    window boundaries move by their own random offset (0..bptt-1): across epochs each event
    is predicted from differently long contexts instead of always restarting the GRU at the
    same positions (the early steps of a fixed window would only ever see a short history).
    """

    def __init__(self, user_codes: np.ndarray, rows: np.ndarray, stamps: np.ndarray,
                 hard: np.ndarray, settings: TrainingSettings, contexts: np.ndarray | None = None):
        order = np.lexsort((stamps, user_codes))
        self.users, self.items = user_codes[order], rows[order]
        self.contexts = None if contexts is None or not contexts.shape[1] else contexts[order]
        self.hard, self.length = hard[order], settings.bptt
        times, count = stamps[order], len(order)
        self.starts = np.r_[0, np.flatnonzero(self.users[1:] != self.users[:-1]) + 1] \
            if count else np.zeros(0, dtype=np.int64)
        self.sizes = np.diff(np.r_[self.starts, count])
        self.position = np.arange(count) - np.repeat(self.starts, self.sizes)
        self.source = np.flatnonzero(np.r_[self.users[1:] == self.users[:-1], False])
        if settings.recency_mask and count and times.max() > times.min():
            # recent events count up to 3x as much as the oldest: tastes and catalogues drift
            self.recency = 0.5 + (times - times.min()) / (times.max() - times.min())
        else:
            self.recency = np.ones(count)

    def has_targets(self) -> bool:
        """Whether any user has two events (something to predict)."""
        return len(self.source) > 0

    def windows(self, generator: np.random.Generator | None = None) -> Windows:
        """The windows; with a generator, each user's boundaries shifted at random."""
        count, length = len(self.users), self.length
        position = self.position
        if generator is not None and length > 1 and count:
            shift = generator.integers(0, length, size=len(self.starts))
            position = position + np.repeat(shift, self.sizes)
        column = position % length
        # a new window wherever a user starts or the column wraps round
        first = (column == 0) | (self.position == 0)
        window = np.cumsum(first) - 1
        num_windows = int(window[-1]) + 1 if count else 0
        # a user's first window may start mid-way (shifted): its columns start at 0 anyway
        column = self.position - self.position[np.flatnonzero(first)][window] \
            if count else column
        inputs = np.full((num_windows, length), -1, dtype=np.int64)
        targets = np.full((num_windows, length), -1, dtype=np.int64)
        weights = np.zeros((num_windows, length), dtype=np.float32)
        negatives = np.full((num_windows, length, self.hard.shape[1]), -1, dtype=np.int64)
        inputs[window, column] = self.items
        source = self.source
        targets[window[source], column[source]] = self.items[source + 1]
        weights[window[source], column[source]] = self.recency[source + 1]
        negatives[window[source], column[source]] = self.hard[source + 1]
        useful = (targets >= 0).any(axis=1)
        input_context = target_context = None
        if self.contexts is not None:
            shape = (num_windows, length, self.contexts.shape[1])
            input_context, target_context = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
            input_context[window, column] = self.contexts
            target_context[window[source], column[source]] = self.contexts[source + 1]
            input_context = torch.from_numpy(input_context[useful])
            target_context = torch.from_numpy(target_context[useful])
        return Windows(torch.from_numpy(inputs[useful]), torch.from_numpy(targets[useful]),
                       torch.from_numpy(weights[useful]), torch.from_numpy(negatives[useful]),
                       input_context, target_context)


def build_windows(user_codes: np.ndarray, rows: np.ndarray, stamps: np.ndarray,
                  hard: np.ndarray, settings: TrainingSettings,
                  contexts: np.ndarray | None = None) -> Windows:
    """Each user's events in consecutive `bptt`-long windows from their first event."""
    return WindowBuilder(user_codes, rows, stamps, hard, settings, contexts).windows()
