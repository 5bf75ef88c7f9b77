"""Approximate maximum-inner-product search, for catalogues too large to score whole.

Scoring a million items per request reads the whole item matrix (600 MB at 149 dimensions):
tens to hundreds of milliseconds on a CPU, whatever the code. An inverted-file index (IVF)
scores only the items whose cluster centroid scores well against the query, a few percent
of the catalogue.

Clusters come from a two-level k-means (about sqrt(n) leaves, about n**0.25 groups of
leaves), so that building the index costs O(n * n**0.25) rather than O(n * sqrt(n)): about a
second at a million items. The vectors are kept sorted by leaf, so a probed leaf is one
contiguous slice.

That sorted copy is float32 ([v_i, b_i], one matrix-vector product per run of leaves)
while it fits in FLOAT_SCAN_BYTES, and int8 beyond (one scale per row, `codes * scales` ~ the
vectors): a quarter of the memory (1.5 GB instead of 6 GB at 10M distinct vectors x 149
dimensions) for a slower scan, as numpy's int8 -> float32 conversion costs more than the
product (16k rows: 0.39 ms as float32, 1.1 ms as int8 converted a slice at a time, on this
machine's CPU). On the int8 copy the EXACT_RESCORED best-scoring probed items are rescored
from the caller's float32 vectors (kept by reference, not copied), so the top of every list
is exact; the rest keep scores within about 1% of |v||q|, which is all that the softmax
normaliser needs.

Identical vectors are indexed once. Cold items initialised from the same metadata share one
[z, b]; at 10M items with 50k interactions nearly the whole catalogue is a dozen such crowds,
and leaves full of copies scoring alike kept the exact top items out of every candidate set
(recall@25 0.62 at any budget). When fewer than CROWDED_BELOW of the rows are distinct, the
leaves hold distinct vectors; a probed crowd returns up to `crowd_rows` of its members and
the rest of it becomes one exact entry of the normaliser's tail, weighted by its size.

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
CROWD_ROWS = 256       # members of one probed crowd of identical vectors returned per search
CROWDED_BELOW = 0.8    # distinct vectors under this share of the rows: index them once each
FLOAT_SCAN_BYTES = 1 << 30   # the leaf-sorted copy stays float32 up to this size, int8 beyond
CHUNK = 16_384         # rows per block when the whole matrix is read: bounded extra memory,
                       # and blocks under glibc's 32 MB mmap threshold are reused from the
                       # heap instead of being mapped (and page-faulted) afresh each time


@dataclass
class SearchResult:
    rows: np.ndarray           # int64 item rows, those of the probed leaves
    scores: np.ndarray         # float32, their inner products with the query (on an int8
                               # copy: exact for the EXACT_RESCORED best, approximate after)
    tail_log_sizes: np.ndarray     # per unprobed leaf: log(number of items)
    tail_scores: np.ndarray        # per unprobed leaf: centroid . query
    tail_leaves: np.ndarray        # which leaves those are
    positions: np.ndarray      # the probed positions: rows[:len(positions)] are
                               # order[positions], the rest crowd members
    runs: list[tuple[int, int]]    # those positions as [start, end) runs


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
    def __init__(self, vectors: torch.Tensor, seed: int = 0, bias: torch.Tensor | None = None,
                 float_scan_bytes: int | None = None):
        """vectors [n, d], float32, kept by reference for exact rescoring; bias [n]: a last
        component of every vector (queries then have d + 1 components); float_scan_bytes: the
        largest float32 leaf-sorted copy kept (int8 codes beyond it; default
        FLOAT_SCAN_BYTES)."""
        float_scan_bytes = FLOAT_SCAN_BYTES if float_scan_bytes is None else float_scan_bytes
        vectors = vectors.detach().float().contiguous()
        bias = None if bias is None else bias.detach().float().contiguous()
        n = len(vectors)
        first, inverse = _distinct(vectors, bias)
        # Crowds: cold items with the same metadata share one vector (at 10M synthetic items
        # 99.5% of the catalogue is a dozen such crowds). The leaves hold each distinct
        # vector once; a probed crowd contributes a few of its members (search's crowd_rows)
        # and the rest of it goes to the normaliser's tail exactly. Without this, probing
        # spent the whole budget on leaves of one crowd, all scoring the same.
        crowded = len(first) <= CROWDED_BELOW * n
        if crowded:
            distinct = _Rows(vectors[torch.from_numpy(first)],
                             None if bias is None else bias[torch.from_numpy(first)])
        else:
            first, inverse, distinct = np.arange(n), None, _Rows(vectors, bias)
        m = len(distinct)
        generator = torch.Generator().manual_seed(seed)
        target_leaves = max(1, round(math.sqrt(m)))
        groups = max(1, round(math.sqrt(target_leaves)))
        group_of = _assign(distinct, kmeans(_sample(distinct, None, groups, generator), groups,
                                            generator))
        leaf_of = torch.empty(m, dtype=torch.long)
        next_leaf = 0
        for group in range(groups):
            members = (group_of == group).nonzero().squeeze(1)
            if len(members) == 0:
                continue
            k = max(1, round(target_leaves * len(members) / m))
            local = _assign(distinct.subset(members),
                            kmeans(_sample(distinct, members, k, generator), k, generator))
            leaf_of[members] = local + next_leaf
            next_leaf += int(local.max()) + 1
        del group_of
        leaf_of = _split_oversized(distinct, leaf_of, math.ceil(m / target_leaves), generator)
        order = torch.argsort(leaf_of, stable=True)          # position -> distinct vector
        counts = np.ones(m, dtype=np.int64) if inverse is None else np.bincount(inverse)
        weights = torch.from_numpy(counts.astype(np.float32))
        self.distinct_sizes = torch.bincount(leaf_of).numpy()  # what a probe scans
        self.sizes = np.bincount(leaf_of.numpy(), weights=counts).astype(np.int64)  # items
        probe_sums = torch.zeros(len(self.sizes), vectors.shape[1]).index_add_(
            0, leaf_of, distinct.vectors)
        if bias is not None:
            probe_sums = torch.cat([probe_sums, torch.zeros(len(self.sizes)).index_add_(
                0, leaf_of, distinct.bias)[:, None]], 1)
        item_sums = probe_sums if inverse is None else _weighted_sums(distinct, leaf_of,
                                                                      weights, len(self.sizes))
        # numpy from here on: what a search touches
        order = order.numpy()
        self.order = first[order]                          # position -> a row of it
        self.dimensions = vectors.shape[1]
        if m * distinct.width * 4 <= float_scan_bytes:
            self.float_rows = distinct.take(torch.from_numpy(order)).numpy()   # [v_i, b_i]
            self.codes = self.scales = self.sorted_bias = None
        else:
            self.float_rows = None
            self.codes, self.scales = _quantised(distinct.vectors, order)
            self.sorted_bias = None if bias is None else distinct.bias.numpy()[order]
        self.exact_vectors = vectors.numpy()
        self.exact_bias = None if bias is None else bias.numpy()
        self.offsets = np.concatenate([[0], np.cumsum(self.distinct_sizes)]).astype(np.int64)
        self.log_sizes = np.log(self.sizes.astype(np.float32))
        self.centroids = (probe_sums / torch.from_numpy(self.distinct_sizes)[:, None].float()
                          ).numpy()
        # the tail estimate counts items, so its centroid weighs each vector by its crowd
        self.item_centroids = (item_sums / torch.from_numpy(self.sizes)[:, None].float()
                               ).numpy()
        self._leaf_of_position = leaf_of.numpy()[order]
        if inverse is None:
            self.position_of = np.empty(n, dtype=np.int64)
            self.position_of[self.order] = np.arange(n)
            self.counts = self.members = self.member_offsets = None
        else:
            position_of_distinct = np.empty(m, dtype=np.int64)
            position_of_distinct[order] = np.arange(m)
            self.position_of = position_of_distinct[inverse]
            self.counts = counts[order]
            # rows grouped by position; stable, so each group starts with self.order's row
            self.members = np.argsort(self.position_of, kind="stable")
            self.member_offsets = np.concatenate([[0], np.cumsum(self.counts)])

    @property
    def leaf_of(self) -> np.ndarray:
        """The leaf of every item row."""
        return self._leaf_of_position[self.position_of]

    def leaf_means(self, values: np.ndarray) -> np.ndarray:
        """Per-leaf mean of a per-item quantity (e.g. log popularity), for tail estimates;
        with crowds, followed by each position's mean over its crowd (the tail_leaves of a
        crowd's unreturned members are num_leaves + position)."""
        values = np.asarray(values)
        leaves = np.bincount(self.leaf_of, weights=values, minlength=self.num_leaves) \
            / self.sizes
        if self.counts is not None:
            leaves = np.concatenate([leaves, np.bincount(
                self.position_of, weights=values, minlength=len(self.order)) / self.counts])
        return leaves.astype(values.dtype)

    def __len__(self) -> int:
        return len(self.position_of)

    @property
    def num_leaves(self) -> int:
        return len(self.sizes)

    def search(self, query, budget: int, crowd_rows: int = CROWD_ROWS) -> SearchResult:
        """Score the best leaves (by centroid . query) until about `budget` distinct vectors
        are scored; of a probed crowd, up to `crowd_rows` members are returned (the best
        crowds first, at most `budget` such rows in all)."""
        query = np.asarray(query, dtype=np.float32)
        leaf_scores = self.centroids @ query
        ranked = np.argsort(-leaf_scores, kind="stable")
        covered = np.cumsum(self.distinct_sizes[ranked])
        probe = max(1, int(np.searchsorted(covered, budget)) + 1)
        probed, rest = ranked[:probe], ranked[probe:]
        # Leaves are numbered in k-means group order, so probed leaves are often adjacent:
        # each run of consecutive leaves is one contiguous slice, one matvec.
        probed = np.sort(probed)
        breaks = np.flatnonzero(np.diff(probed) != 1)
        starts = self.offsets[probed[np.concatenate([[0], breaks + 1])]].tolist()
        ends = self.offsets[probed[np.concatenate([breaks, [len(probed) - 1]])] + 1].tolist()
        positions = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
        rows = self.order[positions]
        scores = np.concatenate([self._scan(a, b, query) for a, b in zip(starts, ends)])
        if self.codes is not None:   # the float32 copy's scores are exact already
            best = np.argpartition(-scores, EXACT_RESCORED)[:EXACT_RESCORED] \
                if len(scores) > EXACT_RESCORED else np.arange(len(scores))
            scores[best] = self.exact_scores(rows[best], query)
        tail_log_sizes = self.log_sizes[rest]
        tail_scores = self.item_centroids[rest] @ query
        tail_leaves = rest
        if self.counts is not None:
            rows, scores, crowd_tail = self._expand_crowds(positions, rows, scores, budget,
                                                           crowd_rows)
            tail_log_sizes = np.concatenate([tail_log_sizes, crowd_tail[0]])
            tail_scores = np.concatenate([tail_scores, crowd_tail[1]])
            tail_leaves = np.concatenate([tail_leaves, crowd_tail[2]])
        return SearchResult(rows, scores, tail_log_sizes, tail_scores, tail_leaves, positions,
                            list(zip(starts, ends)))

    def _scan(self, start: int, end: int, query: np.ndarray) -> np.ndarray:
        """Approximate scores of positions start:end of the leaf-sorted copy."""
        if self.float_rows is not None:
            return self.float_rows[start:end] @ query
        # int8 -> float32 first, then BLAS: numpy's own int8 x float32 loop is not BLAS and
        # its speed depends on the values (16k rows: 1.8 ms for a random query, 8 ms for a
        # GRU state)
        d = self.dimensions
        out = (self.codes[start:end].astype(np.float32) @ query[:d]) * self.scales[start:end]
        return out if self.sorted_bias is None else \
            out + query[d] * self.sorted_bias[start:end]

    def _expand_crowds(self, positions, rows, scores, budget: int, crowd_rows: int):
        """More members of the probed crowds (each scores what its first row scores), and
        for each crowd the members left out as one tail entry."""
        counts = self.counts[positions]
        crowds = np.flatnonzero(counts > 1)
        empty = np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
        if not len(crowds):
            return rows, scores, empty
        crowds = crowds[np.argsort(-scores[crowds], kind="stable")]
        extra = np.minimum(counts[crowds], max(1, crowd_rows)) - 1
        extra[np.cumsum(extra) > budget] = 0                 # the best crowds first
        starts = self.member_offsets[positions[crowds]] + 1  # after the row already in rows
        total = int(extra.sum())
        within = np.arange(total) - np.repeat(np.cumsum(extra) - extra, extra)
        rows = np.concatenate([rows, self.members[np.repeat(starts, extra) + within]])
        scores = np.concatenate([scores, np.repeat(scores[crowds], extra)])
        left = counts[crowds] - 1 - extra
        kept = left > 0
        tail = (np.log(left[kept].astype(np.float32)), scores[crowds][kept],
                self.num_leaves + positions[crowds][kept])
        return rows, scores, tail

    def exact_scores(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """float32 inner products of the given rows with the query."""
        d = self.exact_vectors.shape[1]
        scores = self.exact_vectors[rows] @ query[:d]
        return scores if self.exact_bias is None else scores + query[d] * self.exact_bias[rows]


def _weighted_sums(rows: _Rows, leaf_of: torch.Tensor, weights: torch.Tensor,
                   leaves: int) -> torch.Tensor:
    """Per leaf, the sum of its rows [v_i, b_i] times their weights (crowd sizes)."""
    sums = torch.zeros(leaves, rows.width)
    for start in range(0, len(rows), CHUNK):
        block = rows.take(torch.arange(start, min(start + CHUNK, len(rows))))
        sums.index_add_(0, leaf_of[start:start + CHUNK], block * weights[start:start + CHUNK, None])
    return sums


def _distinct(vectors: torch.Tensor, bias: torch.Tensor | None) -> tuple[np.ndarray, np.ndarray]:
    """(the first row of each distinct [v_i, b_i], each row's distinct number), by a 64-bit
    hash of the float32 bits: integer arithmetic wraps modulo 2**64, so equal rows get equal
    keys whatever the summation order, and distinct rows collide with odds of ~n**2 / 2**64."""
    rng = np.random.default_rng(12345)
    width = vectors.shape[1] + (bias is not None)
    multipliers = rng.integers(1, 2 ** 63, width, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    keys = np.empty(len(vectors), dtype=np.uint64)
    source = vectors.numpy().view(np.uint32)
    extra = None if bias is None else bias.numpy().view(np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, len(source), CHUNK):
            block = source[start:start + CHUNK].astype(np.uint64) * multipliers[:source.shape[1]]
            key = block.sum(1, dtype=np.uint64)
            if extra is not None:
                key += extra[start:start + CHUNK].astype(np.uint64) * multipliers[-1]
            keys[start:start + CHUNK] = key
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first.astype(np.int64), inverse.astype(np.int64).reshape(-1)


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
