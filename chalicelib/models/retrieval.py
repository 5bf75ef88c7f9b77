"""Approximate maximum-inner-product search, for catalogues too large to score whole.

Scoring a million items per request reads the whole item matrix (600 MB at 149 dimensions):
tens to hundreds of milliseconds on a CPU, whatever the code. An inverted-file index (IVF)
scores only the items whose cluster centroid scores well against the query, a few percent
of the catalogue.

Clusters come from a two-level k-means (about sqrt(n) leaves, about n**0.25 groups of
leaves), so that building the index costs O(n * n**0.25) rather than O(n * sqrt(n)): about a
second at a million items. The vectors are kept sorted by leaf, so a probed leaf is one
contiguous slice.

That sorted copy is int8, one scale per row (`codes * scales` ~ the vectors): a quarter of
float32's memory (1.5 GB instead of 6 GB at 10M items x 149 dimensions) for about the same
scan time (16k rows of a 1M-item index: 0.56 ms as int8, converted to float32 a slice at a
time, against 0.52 ms as float32 on this machine's CPU). The EXACT_RESCORED best-scoring
probed items are rescored from the caller's float32 vectors (kept by reference, not copied),
so the top of every list is exact; the rest keep scores within about 1% of |v||q|, which is
all that the softmax normaliser needs. The item bias, when given, is a last vector component
kept in float32.

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
EXACT_RESCORED = 256   # probed items rescored in float32 per search: the top 25 of a list
                       # are among them by a wide margin
CHUNK = 16_384         # rows per block when the whole matrix is read: bounded extra memory,
                       # and blocks under glibc's 32 MB mmap threshold are reused from the
                       # heap instead of being mapped (and page-faulted) afresh each time


@dataclass
class SearchResult:
    rows: np.ndarray           # int64 item rows, those of the probed leaves
    scores: np.ndarray         # float32, their inner products with the query: exact for the
                               # EXACT_RESCORED best, from the int8 codes for the others
    tail_log_sizes: np.ndarray     # per unprobed leaf: log(number of items)
    tail_scores: np.ndarray        # per unprobed leaf: centroid . query
    tail_leaves: np.ndarray        # which leaves those are


class _Rows:
    """The index's vectors [v_i, b_i] without concatenating them: at 10M items a
    concatenated copy would be another 6 GB, and per block the concatenation cost as much
    as the products."""

    def __init__(self, vectors: torch.Tensor, bias: torch.Tensor | None):
        self.vectors, self.bias = vectors, bias
        self.width = vectors.shape[1] + (bias is not None)

    def __len__(self) -> int:
        return len(self.vectors)

    def subset(self, rows: torch.Tensor) -> "_Rows":
        return _Rows(self.vectors[rows], None if self.bias is None else self.bias[rows])

    def take(self, rows: torch.Tensor) -> torch.Tensor:
        block = self.vectors[rows]
        return block if self.bias is None else torch.cat([block, self.bias[rows][:, None]], 1)

    def dot(self, direction: torch.Tensor, start: int = 0, end: int | None = None) -> torch.Tensor:
        """rows[start:end] @ direction ([width] or [width, k])."""
        d = self.vectors.shape[1]
        out = self.vectors[start:end] @ direction[:d]
        if self.bias is None:
            return out
        tail = self.bias[start:end]
        return out + (tail * direction[d] if direction.dim() == 1 else
                      tail[:, None] * direction[d][None, :])


def _assign(rows: _Rows, centroids: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """Nearest centroid (Euclidean) of every row, in chunks to bound memory."""
    half_norms = 0.5 * (centroids * centroids).sum(1)
    transposed = centroids.T.contiguous()
    out = torch.empty(len(rows), dtype=torch.long)
    for start in range(0, len(rows), chunk):
        scores = rows.dot(transposed, start, start + chunk)
        out[start:start + chunk] = (scores - half_norms).argmax(1)
    return out


def kmeans(sample: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Lloyd's k-means on `sample` (a few rows per cluster); returns the centroids [k, d]."""
    k = max(1, min(k, len(sample)))
    centroids = sample[torch.randperm(len(sample), generator=generator)[:k]].clone()
    for _ in range(KMEANS_ITERATIONS):
        labels = _assign(_Rows(sample, None), centroids)
        sums = torch.zeros_like(centroids).index_add_(0, labels, sample)
        counts = torch.bincount(labels, minlength=k).float()
        empty = counts == 0
        centroids = sums / counts.clamp_min(1)[:, None]
        if empty.any():  # re-seed empty clusters from random rows
            pick = torch.randint(len(sample), (int(empty.sum()),), generator=generator)
            centroids[empty] = sample[pick]
    return centroids


def _sample(rows: _Rows, members: torch.Tensor | None, k: int,
            generator: torch.Generator) -> torch.Tensor:
    """KMEANS_SAMPLE_PER_CLUSTER * k random rows (of `members`, or of all rows)."""
    n = len(rows) if members is None else len(members)
    picked = torch.randperm(n, generator=generator)[:KMEANS_SAMPLE_PER_CLUSTER * max(1, k)]
    return rows.take(picked if members is None else members[picked])


def _split_oversized(rows: _Rows, leaf_of: torch.Tensor, leaf_size: int,
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
    direction = torch.randn(rows.width, generator=generator)
    order = torch.argsort(leaf_of.double() * 4 + torch.sigmoid(rows.dot(direction).double()),
                          stable=True)  # by leaf, then along the direction within a leaf
    starts = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)[:-1]])
    rank = torch.arange(len(order)) - torch.repeat_interleave(starts, sizes)
    chunk = torch.where(sizes[leaf_of[order]] > 2 * leaf_size, rank // leaf_size, 0)
    keys = torch.empty_like(leaf_of)
    keys[order] = leaf_of[order] * (len(order) // leaf_size + 1) + chunk
    return torch.unique(keys, return_inverse=True)[1]


class InnerProductIndex:
    def __init__(self, vectors: torch.Tensor, seed: int = 0, bias: torch.Tensor | None = None):
        """vectors [n, d], float32, kept by reference for exact rescoring; bias [n]: a last
        component of every vector (queries then have d + 1 components)."""
        vectors = vectors.detach().float().contiguous()
        bias = None if bias is None else bias.detach().float().contiguous()
        rows = _Rows(vectors, bias)
        n = len(rows)
        generator = torch.Generator().manual_seed(seed)
        target_leaves = max(1, round(math.sqrt(n)))
        groups = max(1, round(math.sqrt(target_leaves)))
        group_of = _assign(rows, kmeans(_sample(rows, None, groups, generator), groups,
                                        generator))
        leaf_of = torch.empty(n, dtype=torch.long)
        next_leaf = 0
        for group in range(groups):
            members = (group_of == group).nonzero().squeeze(1)
            if len(members) == 0:
                continue
            k = max(1, round(target_leaves * len(members) / n))
            local = _assign(rows.subset(members),
                            kmeans(_sample(rows, members, k, generator), k, generator))
            leaf_of[members] = local + next_leaf
            next_leaf += int(local.max()) + 1
        del group_of
        leaf_of = _split_oversized(rows, leaf_of, math.ceil(n / target_leaves), generator)
        order = torch.argsort(leaf_of, stable=True)
        sizes = torch.bincount(leaf_of)
        sums = torch.zeros(len(sizes), vectors.shape[1]).index_add_(0, leaf_of, vectors)
        if bias is not None:
            sums = torch.cat([sums, torch.zeros(len(sizes)).index_add_(0, leaf_of, bias)[:, None]],
                             1)
        # numpy from here on: what a search touches
        self.order = order.numpy()
        self.codes, self.scales = _quantised(vectors, self.order)
        self.sorted_bias = None if bias is None else bias.numpy()[self.order]
        self.exact_vectors = vectors.numpy()
        self.exact_bias = None if bias is None else bias.numpy()
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
        d = self.codes.shape[1]
        vector_part = query[:d]
        # int8 -> float32 first, then BLAS: numpy's own int8 x float32 loop is not BLAS and
        # its speed depends on the values (16k rows: 1.8 ms for a random query, 8 ms for a
        # GRU state), the conversion plus sgemv 0.56 ms for either
        def run_scores(a: int, b: int) -> np.ndarray:
            out = (self.codes[a:b].astype(np.float32) @ vector_part) * self.scales[a:b]
            return out if self.sorted_bias is None else out + query[d] * self.sorted_bias[a:b]

        scores = np.concatenate([run_scores(a, b) for a, b in zip(starts, ends)])
        best = np.argpartition(-scores, EXACT_RESCORED)[:EXACT_RESCORED] \
            if len(scores) > EXACT_RESCORED else np.arange(len(scores))
        scores[best] = self.exact_scores(rows[best], query)
        return SearchResult(rows, scores, self.log_sizes[rest], leaf_scores[rest], rest)

    def exact_scores(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """float32 inner products of the given rows with the query."""
        d = self.exact_vectors.shape[1]
        scores = self.exact_vectors[rows] @ query[:d]
        return scores if self.exact_bias is None else scores + query[d] * self.exact_bias[rows]


def _quantised(vectors: torch.Tensor, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes of the rows in `order` and one float32 scale per row (max |v| / 127).
    Quantised in row order (one sequential pass over the float32 matrix, a block at a time)
    and then permuted as int8: a quarter of the bytes a gather of float32 rows in leaf
    order would move."""
    codes = np.empty(vectors.shape, dtype=np.int8)
    scales = np.empty(len(vectors), dtype=np.float32)
    source = vectors.numpy()
    for start in range(0, len(source), CHUNK):
        block = source[start:start + CHUNK]
        scale = np.maximum(np.abs(block).max(1), 1e-30) / 127.0
        codes[start:start + CHUNK] = np.rint(block / scale[:, None])
        scales[start:start + CHUNK] = scale
    return codes[order], scales[order]
