"""Per-request scoring for UserPersonalizationModel, from state precomputed once per model.

Below RETRIEVAL_FROM items every item is scored exactly. From RETRIEVAL_FROM items up, a
request scores a candidate set instead (see retrieval.py for why):
- the items of the IVF leaves that score best against the user's state [h_u, 1] . [z_i, b_i];
- the POPULAR_CANDIDATES most popular items, which the popularity prior may lift;
- EXPLORATION_DRAWS items drawn in proportion to their exploration bonus. Exploration then
  reweights that sample by the user's affinity, so its picks follow bonus x affinity
  (sampling-importance-resampling) without scoring the catalogue. A request takes its draws
  from a pool of EXPLORATION_POOL draws made at each bonus refresh (uniform picks from
  i.i.d. draws are i.i.d. draws of the pool's distribution): 20 us instead of 350 us of
  binary searches over a million-entry cumulative sum.
The scores stay probabilities over the whole catalogue: the unprobed leaves' share of each
softmax normaliser is estimated from their sizes and centroids.

An optimisation objective (chalicelib/models/objective.py) adds its per-item boost to the
blended log-probabilities, on both paths (the retrieval index itself is built without it).
With context fields, the history's context codes are part of the state cache key.

Also cached here: each user's state h_u (the GRU's or the attention's) by their latest `bptt` items (PutEvents changes the
key, so the next request recomputes it) and the exploration bonus per age cut-off, refreshed
every BONUS_REFRESH_SECONDS (in the background when serving on the clock: a refresh at a
million items takes tens of milliseconds that no request should wait for).

The retrieval path works in numpy on catalogue-long arrays shared with the torch tensors:
a request is a few dozen small array operations, and numpy's per-operation overhead is a
fraction of torch's. Which candidate row an item is (membership and position tests) is
answered by two per-thread scratch arrays, one over the index's positions (the probed runs,
set slice by slice) and one over the items (the few rows found otherwise), set for the
request and reset after it, instead of a fresh catalogue-long array per test.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from chalicelib.models.exploration import (ItemStatistics, exploration_bonus,
                                           exploration_distribution,
                                           sparse_exploration_distribution)
from chalicelib.models.retrieval import CROWD_ROWS, InnerProductIndex

RETRIEVAL_FROM = 100_000
RETRIEVAL_BUDGET = 16_384    # items scored exactly per request above RETRIEVAL_FROM
POPULAR_CANDIDATES = 512
EXPLORATION_DRAWS = 512        # at least; 4 per requested result for long lists
EXPLORATION_POOL = 1 << 20     # draws made per bonus refresh, at most 64 per item
STATE_CACHE_SIZE = 100_000
BONUS_REFRESH_SECONDS = 60.0


@dataclass
class CandidateSpace:
    """What a request ranks: item rows (None = the whole catalogue, in row order), their
    blended probabilities, which of them may be recommended, and the exploration
    distribution over them (None = nothing to explore)."""
    rows: torch.Tensor | None
    exploit: torch.Tensor
    candidates: torch.Tensor   # allowed by the filter and not in the user's history
    history: torch.Tensor      # allowed but already in the history (the refill)
    explore: torch.Tensor | None

    def item_rows(self, positions: list[int]) -> list[int]:
        return positions if self.rows is None else self.rows[positions].tolist()


class Scorer:
    def __init__(self, z: torch.Tensor, bias: torch.Tensor, stats: ItemStatistics,
                 sequence: Callable[[torch.Tensor], torch.Tensor], bptt: int,
                 context_in: torch.nn.Module | None = None, boost: np.ndarray | None = None,
                 last_state: Callable[[np.ndarray], np.ndarray] | None = None):
        # sequence: the network's [B, T, D] -> [B, T, D] sequence model (in eval mode);
        # last_state: the same model's last state of one [T, D] sequence in numpy, if it
        # has one (faster for a single short history);
        # context_in: its context embedding of each step's input (None: no context fields);
        # boost: the optimisation objective's per-item log-probability boost
        self.z, self.bias, self.stats, self.sequence, self.bptt = z, bias, stats, sequence, bptt
        self.last_state = last_state
        self.context_in = context_in
        self._boost_np = None if boost is None or not np.any(boost) else \
            np.ascontiguousarray(boost, dtype=np.float32)
        self.boost = None if self._boost_np is None else torch.from_numpy(self._boost_np)
        self._leaf_boost: np.ndarray | None = None
        popularity = torch.from_numpy(stats.popularity.astype(np.float32)) + 1e-3
        self.log_popularity = torch.log(popularity / popularity.sum())
        self.popular = torch.topk(self.log_popularity,
                                  min(POPULAR_CANDIDATES, len(popularity))).indices.numpy()
        # numpy views of the same memory, for the retrieval path
        self._z_np, self._bias_np = z.detach().numpy(), bias.detach().numpy()
        # the popular candidates' vectors side by side: one small matvec, not a gather
        self._popular_z = np.ascontiguousarray(self._z_np[self.popular])
        self._popular_bias = self._bias_np[self.popular]
        self._log_popularity_np = self.log_popularity.numpy()
        self._states: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._bonus: dict[float, tuple[float, np.ndarray, np.ndarray]] = {}
        self._refreshing: set[float] = set()
        self._lock = threading.Lock()
        self._index: InnerProductIndex | None = None
        self._build_lock = threading.Lock()
        self._building = False
        self._leaf_log_popularity: np.ndarray | None = None
        self._position_log_popularity: np.ndarray | None = None
        self._scratch = threading.local()

    @property
    def size(self) -> int:
        return len(self.z)

    # -- cached per user / per model ---------------------------------------------------------
    def user_state(self, rows: list[int], contexts: np.ndarray | None = None) -> torch.Tensor:
        """h_u: the sequence model's last state over the latest `bptt` items (zeros for no
        history); `contexts`: each item's context codes ([len(rows), fields]), when the
        model has context fields."""
        key = tuple(rows[-self.bptt:])
        codes = None
        if self.context_in is not None and contexts is not None and len(key):
            codes = np.asarray(contexts, dtype=np.int64)[-len(key):]
            if codes.any():
                key = (key, codes.tobytes())
            else:
                codes = None
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
                return state
        if not rows:
            state = torch.zeros(self.z.shape[1])
        else:
            with torch.no_grad():
                x = self.z[torch.tensor(rows[-self.bptt:])]
                if codes is not None:
                    x = x + self.context_in(torch.from_numpy(codes))
                state = torch.from_numpy(self.last_state(x.numpy())) \
                    if self.last_state is not None else self.sequence(x[None])[0, -1]
        self._remember([(key, state)], replace=True)
        return state

    def _remember(self, states, replace: bool) -> None:
        """Cache (key, state) pairs, the oldest evicted beyond STATE_CACHE_SIZE; without
        `replace`, a state already cached for a key is kept."""
        with self._lock:
            for key, state in states:
                if replace or key not in self._states:
                    self._states[key] = state
            while len(self._states) > STATE_CACHE_SIZE:
                self._states.popitem(last=False)

    def warm_states(self, histories, batch: int = 256) -> int:
        """Cache h_u for these histories (lists of item rows), up to STATE_CACHE_SIZE, a
        batch of right-padded sequences at a time (the state at a sequence's last real
        step sees only its own steps, so it is the state user_state computes). Returns how
        many were added."""
        keys = []
        for rows in histories:
            key = tuple(rows[-self.bptt:])
            if key and key not in self._states:
                keys.append(key)
                if len(keys) >= STATE_CACHE_SIZE:
                    break
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), batch):
            chunk = keys[start:start + batch]
            lengths = torch.tensor([len(key) for key in chunk])
            padded = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
            for row, key in enumerate(chunk):
                padded[row, :len(key)] = torch.tensor(key)
            with torch.no_grad():
                states = self.sequence(self.z[padded])[torch.arange(len(chunk)), lengths - 1]
            self._remember([(key, state.clone()) for key, state in zip(chunk, states)],
                           replace=False)
        return len(keys)

    def bonus(self, now: float | None, cut_off_days: float) -> tuple[np.ndarray, np.ndarray]:
        """(exploration bonus per item, a pool of item rows drawn from it), recomputed when
        older than BONUS_REFRESH_SECONDS relative to `now`. On the clock (now=None) a
        stale bonus is served while a background thread recomputes it; an explicit `now`
        (simulations, tests) recomputes at once."""
        on_clock = now is None
        now = time.time() if now is None else float(now)
        key = float(cut_off_days)
        with self._lock:
            cached = self._bonus.get(key)
        if cached is not None and abs(now - cached[0]) < BONUS_REFRESH_SECONDS:
            return cached[1], cached[2]
        if cached is not None and on_clock:
            with self._lock:
                start = key not in self._refreshing
                self._refreshing.add(key)
            if start:
                threading.Thread(target=self._refresh_bonus_in_background, args=(now, key),
                                 daemon=True, name="exploration-bonus").start()
            return cached[1], cached[2]
        return self._refresh_bonus(now, key)

    def _refresh_bonus(self, now: float, key: float) -> tuple[np.ndarray, np.ndarray]:
        bonus = exploration_bonus(self.stats, now, key)
        pool = _draw_pool(bonus, np.random.default_rng(
            [int(now * 1000) & 0xFFFFFFFF, int(key * 1000) & 0xFFFFFFFF]))
        with self._lock:
            self._bonus[key] = (now, bonus, pool)
        return bonus, pool

    def _refresh_bonus_in_background(self, now: float, key: float) -> None:
        try:
            self._refresh_bonus(now, key)
        finally:   # only the refresh that set the flag clears it
            with self._lock:
                self._refreshing.discard(key)

    def index(self) -> InnerProductIndex:
        """The retrieval index, built now if need be (seconds at a million items)."""
        with self._build_lock:
            if self._index is None:
                index = InnerProductIndex(self.z, bias=self.bias)   # [z_i, b_i], no copy
                self._leaf_log_popularity = index.leaf_means(self._log_popularity_np)
                # per position, the log popularity of the row order[position] found there
                self._position_log_popularity = self._log_popularity_np[index.order]
                if self._boost_np is not None:
                    self._leaf_boost = index.leaf_means(self._boost_np)
                self._index = index
            return self._index

    def ready_index(self) -> InnerProductIndex | None:
        """The index if built; otherwise start building it in the background and answer
        None, so that the first requests after a model loads are scored exactly (slower)
        instead of waiting for the build."""
        if self._index is None and not self._building:
            with self._lock:
                if not self._building:
                    self._building = True
                    threading.Thread(target=self.index, daemon=True,
                                     name="retrieval-index").start()
        return self._index

    # -- one request ----------------------------------------------------------------------
    def space(self, state: torch.Tensor, prior: float, history: list[int],
              mask: np.ndarray | None, num_results: int, exploring: bool, now: float | None,
              cut_off_days: float, generator: torch.Generator) -> CandidateSpace:
        index = self.ready_index() if self.size >= RETRIEVAL_FROM else None
        if index is not None:
            space = self._retrieved(index, state, prior, history, mask, exploring, now,
                                    cut_off_days, generator, num_results)
            if int(space.candidates.sum()) >= num_results:
                return space
            # a filter that leaves too few of the retrieved items: score everything
        return self._exact(state, prior, history, mask, exploring, now, cut_off_days)

    def _exact(self, state, prior, history, mask, exploring, now, cut_off_days):
        with torch.no_grad():
            personal = torch.log_softmax(self.z @ state + self.bias, dim=0)
        # A geometric blend: popularity lifts items the user may like, but cannot push an
        # item the sequence model firmly rules out back to the top.
        blended = (1 - prior) * personal + prior * self.log_popularity
        exploit = torch.softmax(blended if self.boost is None else blended + self.boost, dim=0)
        allowed = torch.ones(self.size, dtype=torch.bool) if mask is None \
            else torch.as_tensor(np.asarray(mask, dtype=bool))
        seen = torch.zeros_like(allowed)
        if history:
            seen[torch.tensor(history)] = True
        candidates = allowed & ~seen
        explore = None
        if exploring:
            bonus, _ = self.bonus(now, cut_off_days)
            explore = exploration_distribution(bonus, (1 - prior) * personal, candidates)
        return CandidateSpace(None, exploit, candidates, allowed & seen, explore)

    def _retrieved(self, index, state, prior, history, mask, exploring, now, cut_off_days,
                   generator, num_results):
        state = state.numpy()
        query = np.append(state, np.float32(1.0))
        found = index.search(query, RETRIEVAL_BUDGET,
                             crowd_rows=max(CROWD_ROWS, 2 * num_results))
        draws = max(EXPLORATION_DRAWS, 4 * num_results)
        drawn, drawn_counts = _runs(self._draw_explorable(now, cut_off_days, generator, draws)) \
            if exploring else (np.zeros(0, dtype=np.int64), None)
        leading, scored = len(found.positions), len(found.rows)
        with self._marks(index) as (at_position, at_item):
            # Which of the request's rows an item is, without writing a catalogue-long
            # array at ~17k random places (and again to reset it): the found rows are runs
            # of index positions, marked slice by slice in a position-long array; the few
            # others (crowd members, popular and drawn items) in an item-long one.
            offset = 0
            for start, end in found.runs:
                at_position[start:end] = np.arange(offset, offset + end - start, dtype=np.int32)
                offset += end - start
            at_item[found.rows[leading:]] = np.arange(leading, scored, dtype=np.int32)

            def row_of(items: np.ndarray) -> np.ndarray:
                position = index.position_of[items]
                at = np.where(index.order[position] == items, at_position[position], -1)
                return np.where(at >= 0, at, at_item[items])

            popular_new = row_of(self.popular) < 0
            popular = self.popular[popular_new]
            at_item[popular] = np.arange(scored, scored + len(popular), dtype=np.int32)
            drawn_at = row_of(drawn)   # drawn is distinct: its new rows follow in order
            new = drawn_at < 0
            more = drawn[new]
            rows = np.concatenate([found.rows, popular, more])
            drawn_at[new] = np.arange(scored + len(popular), len(rows), dtype=np.int32)
            at_item[more] = drawn_at[new]
            seen = np.zeros(len(rows), dtype=bool)
            if history:
                at = row_of(np.asarray(history, dtype=np.int64))
                seen[at[at >= 0]] = True
            for start, end in found.runs:
                at_position[start:end] = -1
            at_item[rows[leading:]] = -1
        if index.float_rows is not None:   # the same vectors, in a smaller matrix than z
            more_logits = index.float_rows[index.position_of[more]] @ query
        else:
            more_logits = self._z_np[more] @ state + self._bias_np[more]
        logits = np.concatenate([found.scores,
                                 (self._popular_z @ state + self._popular_bias)[popular_new],
                                 more_logits])
        # normalisers over the whole catalogue: scored items exactly, the unprobed leaves
        # estimated (the few extra items counted twice keep every sum below 1)
        personal_norm = _logsumexp(logits, found.tail_log_sizes + found.tail_scores)
        personal = logits - personal_norm
        log_popularity = np.concatenate([self._position_log_popularity[found.positions],
                                         self._log_popularity_np[rows[leading:]]])
        blended = (1 - prior) * personal + prior * log_popularity
        tail = found.tail_log_sizes + (1 - prior) * (found.tail_scores - personal_norm) \
            + prior * self._leaf_log_popularity[found.tail_leaves]
        if self._boost_np is not None:
            blended = blended + self._boost_np[rows]
            tail = tail + self._leaf_boost[found.tail_leaves]
        exploit = torch.from_numpy(np.exp(blended - _logsumexp(blended, tail))
                                   .astype(np.float32))
        allowed = np.ones(len(rows), dtype=bool) if mask is None \
            else np.asarray(mask, dtype=bool)[rows]
        candidates = allowed & ~seen
        explore = None
        if drawn_counts is not None and len(drawn):   # every drawn item is among rows
            keep = candidates[drawn_at]
            explore = sparse_exploration_distribution(
                drawn_at[keep], drawn_counts[keep].astype(np.float64),
                (1 - prior) * personal[drawn_at[keep]], len(rows))
        return CandidateSpace(torch.from_numpy(rows), exploit, torch.from_numpy(candidates),
                              torch.from_numpy(allowed & seen), explore)

    @contextmanager
    def _marks(self, index):
        """This thread's scratch arrays, all -1 on entry: one over the index's positions,
        one over the catalogue's items; the caller resets what it set (O(rows), not
        O(catalogue), per request)."""
        marks = getattr(self._scratch, "marks", None)
        if marks is None:
            marks = self._scratch.marks = (np.full(len(index.order), -1, dtype=np.int32),
                                           np.full(self.size, -1, dtype=np.int32))
        try:
            yield marks
        except BaseException:
            for mark in marks:
                mark.fill(-1)
            raise

    def _draw_explorable(self, now, cut_off_days, generator, draws: int) -> np.ndarray:
        """`draws` item rows drawn in proportion to their exploration bonus, sorted."""
        _, pool = self.bonus(now, cut_off_days)
        if not len(pool):
            return np.zeros(0, dtype=np.int64)
        picks = torch.randint(len(pool), (draws,), generator=generator).numpy()
        return np.sort(pool[picks]).astype(np.int64)


def _draw_pool(bonus: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Item rows drawn with replacement in proportion to `bonus` (none if it is all zero):
    up to EXPLORATION_POOL of them, sorted keys searched once per refresh."""
    cumulative = np.cumsum(bonus, dtype=np.float64)
    total = float(cumulative[-1]) if len(cumulative) else 0.0
    if not total > 0 or not np.isfinite(total):
        return np.zeros(0, dtype=np.int32)
    keys = np.sort(rng.random(min(EXPLORATION_POOL, 64 * len(bonus)))) * total
    return np.minimum(np.searchsorted(cumulative, keys, side="right"),
                      len(bonus) - 1).astype(np.int32)


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct values of a sorted array, how often each occurs)."""
    if not len(values):
        return values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.diff(np.append(starts, len(values)))


def _logsumexp(*parts: np.ndarray) -> float:
    values = np.concatenate(parts)
    if not len(values):
        return float("-inf")
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))
