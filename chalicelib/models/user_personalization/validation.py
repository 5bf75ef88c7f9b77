"""Held-out events that pick the number of epochs (early stopping).

AWS trains without a user in the loop, so the recipe chooses its own epochs: the latest
event of up to `validation_users` users (those with at least MIN_EVENTS events) is held out
of training, and after every epoch the model ranks the whole catalogue for each of them
from their earlier events (their own earlier items excluded, as serving excludes them):
the held-out items' cross-entropy and NDCG@10 (settings.early_stopping_metric says which
one decides; the other breaks ties: tiny data saturates NDCG at 1.0 early). The latest event, not a random one: serving always predicts
the next event from everything before it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MIN_EVENTS = 3           # two to learn from, one to hold out
MIN_USERS = 20           # fewer held-out users than this: too noisy to choose an epoch
SCORE_BLOCK = 1 << 24    # users x items scored at once (64 MB of float32)


@dataclass
class HeldOutEvents:
    histories: torch.Tensor   # [N, T] item rows, right-padded with -1 (latest T before)
    targets: torch.Tensor     # [N] the held-out item rows
    seen: list[np.ndarray]    # each user's earlier item rows (excluded from the ranking)
    # context codes (context.py) of the history events [N, T, fields] and of the held-out
    # event [N, fields]: a context model is chosen on what it serves, the request's context
    history_contexts: torch.Tensor | None = None
    target_contexts: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.targets)

    def score(self, network, features: torch.Tensor) -> tuple[float, float]:
        """(mean NDCG@10, mean cross-entropy) of the held-out items, every item ranked
        (network in eval mode): higher NDCG, then lower cross-entropy, is better."""
        with torch.no_grad():
            z, bias = network.all_item_vectors(features), network.item_bias.weight[:, 0]
            block = max(1, SCORE_BLOCK // max(len(z), 1))
            total, loss = 0.0, 0.0
            for start in range(0, len(self), block):
                histories = self.histories[start:start + block]
                valid = histories >= 0
                x = z[histories.clamp_min(0)] * valid[..., None]
                contexts = None if self.history_contexts is None else \
                    self.history_contexts[start:start + block]
                states = network.sequence(network.step_inputs(x, contexts))
                last = valid.sum(1) - 1
                state = states[torch.arange(len(histories)), last]
                if self.target_contexts is not None:
                    state = network.conditioned(state, self.target_contexts[start:start + block])
                scores = state @ z.T + bias
                for offset, seen in enumerate(self.seen[start:start + block]):
                    scores[offset, torch.from_numpy(seen)] = float("-inf")
                targets = self.targets[start:start + block]
                target_scores = scores[torch.arange(len(targets)), targets]
                rank = (scores > target_scores[:, None]).sum(1)
                loss += float((torch.logsumexp(scores, 1) - target_scores)
                              .clamp_max(1e4).sum())   # an excluded target: -inf, capped
                total += float(torch.where(rank < 10, 1.0 / torch.log2(rank + 2.0),
                                           torch.zeros(())).sum())
        count = max(len(self), 1)
        return total / count, loss / count


def hold_out_latest_events(user_codes: np.ndarray, rows: np.ndarray, stamps: np.ndarray,
                           max_users: int, length: int, seed: int,
                           contexts: np.ndarray | None = None
                           ) -> tuple[np.ndarray, HeldOutEvents | None]:
    """(boolean per event: kept for training, the held-out events). Nothing is held out
    (all True, None) when max_users is 0 or fewer than MIN_USERS users qualify."""
    keep = np.ones(len(rows), dtype=bool)
    if max_users <= 0 or not len(rows):
        return keep, None
    order = np.lexsort((stamps, user_codes))
    users = user_codes[order]
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    eligible = np.flatnonzero(sizes >= MIN_EVENTS)
    if len(eligible) < MIN_USERS:
        return keep, None
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(eligible, min(max_users, len(eligible)), replace=False))
    last = starts[chosen] + sizes[chosen] - 1          # positions in `order`
    keep[order[last]] = False
    histories = np.full((len(chosen), length), -1, dtype=np.int64)
    seen = []
    history_contexts = None if contexts is None else \
        np.zeros((len(chosen), length, contexts.shape[1]), dtype=np.int64)
    for row, (start, end) in enumerate(zip(starts[chosen], last)):
        earlier = rows[order[start:end]]
        recent = earlier[-length:]
        histories[row, :len(recent)] = recent
        seen.append(np.unique(earlier))
        if history_contexts is not None:
            history_contexts[row, :len(recent)] = contexts[order[start:end]][-length:]
    return keep, HeldOutEvents(
        torch.from_numpy(histories), torch.from_numpy(rows[order[last]]), seen,
        None if contexts is None else torch.from_numpy(history_contexts),
        None if contexts is None else torch.from_numpy(contexts[order[last]]))
