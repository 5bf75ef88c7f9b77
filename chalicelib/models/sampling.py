"""Importance-sampled softmax for large item vocabularies.

A full softmax over V items costs O(V) per predicted event; with V in the millions that
dominates training. Instead each step scores the true item plus S negatives drawn from a
proposal Q (unigram popularity), and subtracts log(S * Q) from every logit. That log-Q
correction turns the sampled softmax into a consistent estimate of the full one (without
it, popular items - drawn often - would be pushed down far too hard).

Negatives are drawn with Vose's alias method: O(V) to build, O(1) per draw, and every draw
of a step is one vectorised torch expression.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

# Below this vocabulary size the exact softmax is cheap enough and has no variance.
FULL_SOFTMAX_BELOW = 2000


# The fewest negatives a step draws (at most the vocabulary). sqrt(V) alone is 152 at the
# 23,084 items of SASRec's Amazon video games, and there v2 needed 42 epochs to reach
# full-ranking NDCG@10 0.0549; with 2,048 (GRU4Rec's official setting) it keeps epoch 21 at
# 0.0585 and v1 goes from 0.0423 to 0.0481, for about 10% fewer events/s (bench/README
# "SASRec's table"). Negatives are shared by every event of a step, so their cost is one
# [events, negatives] product, small beside the sequence model's.
MIN_NEGATIVES = 2048


def default_num_negatives(vocabulary_size: int) -> int:
    """sqrt(V) negatives per step (cost grows slowly while the estimate stays useful), but
    never fewer than MIN_NEGATIVES unless the vocabulary itself is smaller."""
    return min(max(1, vocabulary_size),
               max(MIN_NEGATIVES, int(math.ceil(math.sqrt(vocabulary_size)))))


def build_alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table for a discrete distribution.

    Returns (accept, alias): draw a column k uniformly, keep k with probability accept[k],
    otherwise take alias[k]. Each column's mass is exactly 1/V, split between k and alias[k].
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError("need a non-empty 1-d probability vector")
    if np.any(p < 0) or not np.isfinite(p).all() or p.sum() <= 0:
        raise ValueError("probabilities must be finite, non-negative and not all zero")
    n = len(p)
    scaled = p * (n / p.sum())
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    small = np.flatnonzero(scaled < 1.0).tolist()
    large = np.flatnonzero(scaled >= 1.0).tolist()
    scaled_list = scaled.tolist()  # plain floats: the loop below is Python-bound
    while small and large:
        s, g = small.pop(), large[-1]
        accept[s] = scaled_list[s]
        alias[s] = g
        scaled_list[g] -= 1.0 - scaled_list[s]
        if scaled_list[g] < 1.0:  # the large column gave away enough to become small
            large.pop()
            small.append(g)
    # Whatever is left is 1 up to rounding error: those columns keep themselves.
    for k in small + large:
        accept[k] = 1.0
    return accept, alias


class AliasSampler:
    """Draws item indices from Q in O(1) each, deterministically given the generator."""

    def __init__(self, probabilities: np.ndarray):
        p = np.asarray(probabilities, dtype=np.float64)
        self.probabilities = p / p.sum()
        accept, alias = build_alias_table(self.probabilities)
        self._accept = torch.from_numpy(accept.astype(np.float32))
        self._alias = torch.from_numpy(alias)
        self.log_q = torch.from_numpy(np.log(np.maximum(self.probabilities, 1e-30))
                                      .astype(np.float32))

    def __len__(self) -> int:
        return len(self.probabilities)

    def draw(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        columns = torch.randint(len(self), (count,), generator=generator)
        coins = torch.rand(count, generator=generator)
        return torch.where(coins < self._accept[columns], columns, self._alias[columns])

    def unique_negatives(self, count: int,
                         generator: torch.Generator | None = None) -> torch.Tensor:
        """The distinct items of `count` draws (sorted): a popular item drawn many times is
        scored once (sampled_softmax_loss with draws=count corrects for it)."""
        return torch.unique(self.draw(count, generator))


def unigram_proposal(counts: np.ndarray, power: float = 1.0, floor: float = 1.0) -> np.ndarray:
    """Popularity proposal; `floor` keeps never-seen items drawable (they need negatives
    too, or nothing pushes their scores down)."""
    weights = (np.asarray(counts, dtype=np.float64) + floor) ** power
    return weights / weights.sum()


def sampled_softmax_loss(hidden: torch.Tensor, targets: torch.Tensor,
                         target_vectors: torch.Tensor, target_bias: torch.Tensor,
                         negatives: torch.Tensor, negative_vectors: torch.Tensor,
                         negative_bias: torch.Tensor, log_q: torch.Tensor, weights: torch.Tensor,
                         hard_negatives: torch.Tensor | None = None,
                         hard_vectors: torch.Tensor | None = None,
                         hard_bias: torch.Tensor | None = None,
                         subtract_log_q: bool = True,
                         draws: int | None = None) -> torch.Tensor:
    """Weighted mean cross-entropy of the true item against shared sampled negatives.

    hidden [N, D], targets [N] (item indices), target_vectors [N, D], target_bias [N];
    negatives [S] shared by all N rows with their vectors [S, D] and bias [S];
    log_q [V]: log proposal probabilities; weights [N] (0 for padding).
    hard_negatives [N, K] (-1 = none): per-row extra negatives such as impressions that
    were not clicked. They are corrected like the rest so that every logit of a row is on
    the same (log-Q shifted) scale as the positive they compete with.
    draws: the negatives are the distinct items of that many draws (unique_negatives), and
    each logit is corrected by the log probability that its item is among them instead of
    its expected draw count: of 8,192 draws over the 23,084 video-game items 5,232 are
    distinct, so the [N, S] product shrinks by a third for the same sample.
    """
    if draws is None:   # log of each item's expected draw count
        def log_expected(items):
            return log_q[items] + math.log(negatives.shape[0])
    else:               # log P(item among the distinct draws) = log(1 - (1 - q)^draws)
        def log_expected(items):
            q = log_q[items].double().exp()
            return torch.log(-torch.expm1(draws * torch.log1p(-q))).float()
    positive = (hidden * target_vectors).sum(-1) + target_bias
    sampled = hidden @ negative_vectors.T + negative_bias
    if subtract_log_q:
        positive = positive - log_expected(targets)
        sampled = sampled - log_expected(negatives)
    # A sampled "negative" that is the row's own target is an accidental hit, not evidence.
    sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    columns = [positive[:, None], sampled]
    if hard_negatives is not None and hard_negatives.numel():
        hard = torch.einsum("nd,nkd->nk", hidden, hard_vectors) + hard_bias
        if subtract_log_q:
            hard = hard - log_expected(hard_negatives.clamp_min(0))
        invalid = (hard_negatives < 0) | (hard_negatives == targets[:, None])
        columns.append(hard.masked_fill(invalid, float("-inf")))
    logits = torch.cat(columns, dim=1)
    losses = -F.log_softmax(logits, dim=1)[:, 0]
    return (losses * weights).sum() / weights.sum().clamp_min(1e-9)


def full_softmax_loss(hidden: torch.Tensor, targets: torch.Tensor, item_vectors: torch.Tensor,
                      item_bias: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Exact weighted cross-entropy over every item (small vocabularies, benchmarks)."""
    logits = hidden @ item_vectors.T + item_bias
    losses = F.cross_entropy(logits, targets, reduction="none")
    return (losses * weights).sum() / weights.sum().clamp_min(1e-9)
