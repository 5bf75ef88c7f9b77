"""Approximate maximum-inner-product search, for catalogues too large to score whole.

Scoring a million items per request reads the whole item matrix (600 MB at 149 dimensions):
tens to hundreds of milliseconds on a CPU, whatever the code. An inverted-file index (IVF)
scores only the items whose cluster centroid scores well against the query, a few percent
of the catalogue, and returns the exact scores of those items.

Clusters come from a two-level k-means (about sqrt(n) leaves, about n**0.25 groups of
leaves), so that building the index costs O(n * n**0.25) rather than O(n * sqrt(n)): about a
second at a million items. The vectors are kept sorted by leaf, so a probed leaf is one
contiguous slice.

`search` also returns, for every leaf it did not probe, an estimate of that leaf's share of
a softmax normaliser (log size + centroid score): callers that need probabilities over the
whole catalogue (Personalize scores are) add it to the exact part.

The index is built with torch but searched with numpy: a search is dozens of small array
operations on one thread, and numpy's per-call overhead is a fraction of torch's (at a
million items a search probes ~60 leaves; a torch slice-and-matvec per leaf cost 2.4 ms a
search, numpy over runs of adjacent leaves well under one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

KMEANS_ITERATIONS = 8
KMEANS_SAMPLE_PER_CLUSTER = 64   # rows k-means is fitted on, per cluster (assignment covers
                                 # every row): enough to place a centroid, cheap to iterate


@dataclass
class SearchResult:
    rows: np.ndarray           # int64 item rows, those of the probed leaves
    scores: np.ndarray         # float32, their exact inner products with the query
    tail_log_sizes: np.ndarray     # per unprobed leaf: log(number of items)
    tail_scores: np.ndarray        # per unprobed leaf: centroid . query
    tail_leaves: np.ndarray        # which leaves those are


def _assign(vectors: torch.Tensor, centroids: torch.Tensor, chunk: int = 65_536) -> torch.Tensor:
    """Nearest centroid (Euclidean) of every row, in chunks to bound memory."""
    half_norms = 0.5 * (centroids * centroids).sum(1)
    out = torch.empty(len(vectors), dtype=torch.long)
    for start in range(0, len(vectors), chunk):
        block = vectors[start:start + chunk]
        out[start:start + chunk] = (block @ centroids.T - half_norms).argmax(1)
    return out


def kmeans(vectors: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Lloyd's k-means on a sample of the rows; returns the centroids [k, d]."""
    n = len(vectors)
    k = max(1, min(k, n))
    sample = vectors[torch.randperm(n, generator=generator)[:KMEANS_SAMPLE_PER_CLUSTER * k]]
    centroids = sample[torch.randperm(len(sample), generator=generator)[:k]].clone()
    for _ in range(KMEANS_ITERATIONS):
        labels = _assign(sample, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, labels, sample)
        counts = torch.bincount(labels, minlength=k).float()
        empty = counts == 0
        centroids = sums / counts.clamp_min(1)[:, None]
        if empty.any():  # re-seed empty clusters from random rows
            pick = torch.randint(len(sample), (int(empty.sum()),), generator=generator)
            centroids[empty] = sample[pick]
    return centroids


def _split_oversized(vectors: torch.Tensor, leaf_of: torch.Tensor, leaf_size: int,
                     generator: torch.Generator) -> torch.Tensor:
    """Leaves numbered densely, none over 2 * leaf_size items. k-means cannot split a crowd
    of identical vectors (cold items with the same metadata get the same ID embedding from
    their neighbours: a catalogue can hold 100k of them), and a search that probes one such
    leaf would score all of it. Oversized leaves are cut into slabs of leaf_size along a
    random direction: identical items score identically, so any cut is as good."""
    _, leaf_of = torch.unique(leaf_of, return_inverse=True)
    sizes = torch.bincount(leaf_of)
    if int(sizes.max()) <= 2 * leaf_size:
        return leaf_of
    direction = torch.randn(vectors.shape[1], generator=generator)
    order = torch.argsort(leaf_of.double() * 4 + torch.sigmoid((vectors @ direction).double()),
                          stable=True)  # by leaf, then along the direction within a leaf
    starts = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)[:-1]])
    rank = torch.arange(len(order)) - torch.repeat_interleave(starts, sizes)
    chunk = torch.where(sizes[leaf_of[order]] > 2 * leaf_size, rank // leaf_size, 0)
    keys = torch.empty_like(leaf_of)
    keys[order] = leaf_of[order] * (len(order) // leaf_size + 1) + chunk
    return torch.unique(keys, return_inverse=True)[1]


class InnerProductIndex:
    def __init__(self, vectors: torch.Tensor, seed: int = 0):
        vectors = vectors.detach().float().contiguous()
        n = len(vectors)
        generator = torch.Generator().manual_seed(seed)
        target_leaves = max(1, round(math.sqrt(n)))
        groups = max(1, round(math.sqrt(target_leaves)))
        group_of = _assign(vectors, kmeans(vectors, groups, generator))
        leaf_of = torch.empty(n, dtype=torch.long)
        next_leaf = 0
        for group in range(groups):
            members = (group_of == group).nonzero().squeeze(1)
            if len(members) == 0:
                continue
            k = max(1, round(target_leaves * len(members) / n))
            local = _assign(vectors[members], kmeans(vectors[members], k, generator))
            leaf_of[members] = local + next_leaf
            next_leaf += int(local.max()) + 1
        leaf_of = _split_oversized(vectors, leaf_of, math.ceil(n / target_leaves), generator)
        order = torch.argsort(leaf_of, stable=True)
        sizes = torch.bincount(leaf_of)
        sums = torch.zeros(len(sizes), vectors.shape[1]).index_add_(0, leaf_of, vectors)
        # numpy from here on: what a search touches
        self.order = order.numpy()
        self.sorted_vectors = vectors[order].contiguous().numpy()
        self.sizes = sizes.numpy()
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.log_sizes = np.log(self.sizes.astype(np.float32))
        self.centroids = (sums / sizes[:, None].float()).numpy()
        self.leaf_of = leaf_of.numpy()

    def leaf_means(self, values: np.ndarray) -> np.ndarray:
        """Per-leaf mean of a per-item quantity (e.g. log popularity), for tail estimates."""
        values = np.asarray(values)
        return (np.bincount(self.leaf_of, weights=values, minlength=self.num_leaves)
                / self.sizes).astype(values.dtype)

    def __len__(self) -> int:
        return len(self.order)

    @property
    def num_leaves(self) -> int:
        return len(self.sizes)

    def search(self, query, budget: int) -> SearchResult:
        """Score the best leaves (by centroid . query) until about `budget` items are scored."""
        query = np.asarray(query, dtype=np.float32)
        leaf_scores = self.centroids @ query
        ranked = np.argsort(-leaf_scores, kind="stable")
        covered = np.cumsum(self.sizes[ranked])
        probe = max(1, int(np.searchsorted(covered, budget)) + 1)
        probed, rest = ranked[:probe], ranked[probe:]
        # Leaves are numbered in k-means group order, so probed leaves are often adjacent:
        # each run of consecutive leaves is one contiguous slice, one matvec.
        probed = np.sort(probed)
        breaks = np.flatnonzero(np.diff(probed) != 1)
        starts = self.offsets[probed[np.concatenate([[0], breaks + 1])]].tolist()
        ends = self.offsets[probed[np.concatenate([breaks, [len(probed) - 1]])] + 1].tolist()
        rows = np.concatenate([self.order[a:b] for a, b in zip(starts, ends)])
        scores = np.concatenate([self.sorted_vectors[a:b] @ query for a, b in zip(starts, ends)])
        return SearchResult(rows, scores, self.log_sizes[rest], leaf_scores[rest], rest)
