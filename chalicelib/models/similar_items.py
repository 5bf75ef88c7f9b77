"""aws-sims and aws-similar-items (RELATED_ITEMS): items that go with a given item.

aws-sims: item-to-item collaborative filtering. With n_i the number of users who interacted
with item i and c_ij the number who interacted with both i and j,

    sims(i, j) = c_ij / (n_i^(1 - d) * n_j^d)        d = popularity_discount_factor

d = 0.5 is the cosine of the two items' user vectors; larger d discounts popular
neighbours harder (d = 0 is P(j | i)). Pairs seen together fewer than
`min_cointeraction_count` times are noise and dropped. The value is in [0, 1].

aws-similar-items blends that with item-metadata similarity (cosine of the item feature
rows from item_features.py): score = (1 - w_i) * cooc + w_i * metadata, where
w_i = max(metadata_weight, M / (M + n_i)), so items with few interactions (cold items in
particular, n_i = 0) lean on their metadata.

Training keeps each item's best `neighbours` as a CSR list, so serving one item is a slice,
a mask lookup and, when the list runs short, a top-k over popularity.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from chalicelib.models.data import TrainingData
from chalicelib.models.item_features import fit_feature_spec, item_feature_matrix
from chalicelib.models.base import (Log, Model, Recipe, Scored, _quiet, item_rows,
                                    known_item_ids)
from chalicelib.models.persistence import load_arrays, save_arrays
from chalicelib.models.fixed_scores import allowed_items, top_scored

SIMS = "aws-sims"
SIMILAR_ITEMS = "aws-similar-items"
STATE_FILE = "related_items.npz"
META_FILE = "related_items.json"
MAX_USER_HISTORY = 200        # latest items per user that form pairs (pairs grow as n^2)
METADATA_PRIOR = 10.0         # M above: interactions at which metadata weighs half
EXACT_METADATA_BELOW = 50_000  # above this many items, compare metadata within LSH buckets
LSH_BITS = 10

SIMS_DEFAULTS = {
    "popularity_discount_factor": "0.5",
    "min_cointeraction_count": "3",
    "min_user_history_length_percentile": "0.005",
    "max_user_history_length_percentile": "0.995",
    "neighbours": "100",
}
SIMILAR_ITEMS_DEFAULTS = {**SIMS_DEFAULTS, "min_cointeraction_count": "1",
                          "metadata_weight": "0.2"}


def _params(defaults: dict[str, str], hyperparameters: dict[str, str] | None) -> dict:
    values = {**defaults, **{k: str(v) for k, v in (hyperparameters or {}).items()}}
    return {
        "discount": min(max(float(values["popularity_discount_factor"]), 0.0), 1.0),
        "min_cointeraction": max(1, int(float(values["min_cointeraction_count"]))),
        "min_percentile": float(values["min_user_history_length_percentile"]),
        "max_percentile": float(values["max_user_history_length_percentile"]),
        "neighbours": max(1, int(float(values["neighbours"]))),
        "metadata_weight": min(max(float(values.get("metadata_weight", "0")), 0.0), 1.0),
    }


# --- co-occurrence -------------------------------------------------------------------------

def user_item_pairs(users: np.ndarray, rows: np.ndarray, stamps: np.ndarray,
                    min_percentile: float, max_percentile: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user code, item row) pairs: users outside the history-length percentiles
    (bots, one-off visitors) dropped, each user's latest MAX_USER_HISTORY items kept."""
    _, user_codes = np.unique(users, return_inverse=True)
    order = np.lexsort((-stamps, user_codes))  # per user, newest first
    user_codes, rows = user_codes[order], rows[order]
    unique_pairs, first = np.unique(user_codes * (rows.max() + 1) + rows, return_index=True)
    first.sort()  # keep newest-first order within each user
    user_codes, rows = user_codes[first], rows[first]
    lengths = np.bincount(user_codes)
    low = np.quantile(lengths[lengths > 0], min(max(min_percentile, 0.0), 1.0))
    high = np.quantile(lengths[lengths > 0], min(max(max_percentile, 0.0), 1.0))
    keep_user = (lengths >= low) & (lengths <= high)
    if not keep_user.any():
        keep_user[:] = True
    starts = np.r_[0, np.flatnonzero(user_codes[1:] != user_codes[:-1]) + 1]
    position = np.arange(len(user_codes)) - np.repeat(starts, np.diff(np.r_[starts,
                                                                           len(user_codes)]))
    keep = keep_user[user_codes] & (position < MAX_USER_HISTORY)
    return user_codes[keep], rows[keep]


def cooccurrence(user_codes: np.ndarray, rows: np.ndarray, size: int):
    """(i, j, c_ij) for i != j and the per-item user counts n, via one sparse X^T X."""
    counts = np.bincount(rows, minlength=size).astype(np.float64)
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), counts
    num_users = int(user_codes.max()) + 1
    x = torch.sparse_coo_tensor(np.vstack([user_codes, rows]), torch.ones(len(rows)),
                                (num_users, size), check_invariants=False).coalesce()
    with warnings.catch_warnings():  # torch flags its sparse-sparse product as beta
        warnings.simplefilter("ignore", UserWarning)
        product = torch.sparse.mm(x.t().coalesce(), x).coalesce()
    i, j = product.indices().numpy()
    c = product.values().double().numpy()
    off_diagonal = i != j
    return i[off_diagonal], j[off_diagonal], c[off_diagonal], counts


# --- metadata ------------------------------------------------------------------------------

def unit_rows(features: np.ndarray) -> np.ndarray:
    body = features[:, 1:]  # column 0 only says 'has metadata'
    return body / np.maximum(np.linalg.norm(body, axis=1, keepdims=True), 1e-9)


def _exact_neighbours(unit: torch.Tensor, rows: np.ndarray, k: int, pairs: list) -> None:
    k = min(k + 1, len(rows))
    base = unit[torch.from_numpy(rows)]
    for start in range(0, len(rows), 2048):
        sims = base[start:start + 2048] @ base.T
        top = torch.topk(sims, k, dim=1)
        query = np.repeat(rows[start:start + 2048], k)
        pairs.append((query, rows[top.indices.reshape(-1).numpy()]))


def metadata_neighbour_pairs(unit: np.ndarray, described: np.ndarray, k: int,
                             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) candidate pairs: each described item with its k most metadata-similar ones.
    Exact below EXACT_METADATA_BELOW items; above, exact within random-hyperplane buckets
    (items with near directions share a bucket) to stay sub-quadratic."""
    tensor = torch.from_numpy(unit.astype(np.float32))
    pairs: list = []
    rows = np.flatnonzero(described)
    if len(rows) <= EXACT_METADATA_BELOW:
        _exact_neighbours(tensor, rows, k, pairs)
    else:
        planes = np.random.default_rng(seed).normal(size=(unit.shape[1], LSH_BITS))
        codes = ((unit[rows] @ planes) > 0).astype(np.int64) @ (1 << np.arange(LSH_BITS))
        for code in np.unique(codes):
            _exact_neighbours(tensor, rows[codes == code], k, pairs)
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    i, j = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    return i[i != j], j[i != j]


def pair_cosines(unit: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.empty(len(i))
    for start in range(0, len(i), 1 << 16):
        a, b = unit[i[start:start + (1 << 16)]], unit[j[start:start + (1 << 16)]]
        out[start:start + (1 << 16)] = np.einsum("nd,nd->n", a, b)
    return np.clip(out, 0.0, 1.0)


# --- top-k per item ------------------------------------------------------------------------

def top_per_row(i: np.ndarray, j: np.ndarray, score: np.ndarray, size: int,
                k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, neighbour rows, scores): each row's k best, best first (vectorised)."""
    order = np.lexsort((-score, i))
    i, j, score = i[order], j[order], score[order]
    starts = np.searchsorted(i, np.arange(size))
    rank = np.arange(len(i)) - starts[i] if len(i) else np.zeros(0, dtype=np.int64)
    keep = rank < k
    i, j, score = i[keep], j[keep], score[keep]
    indptr = np.r_[0, np.cumsum(np.bincount(i, minlength=size))].astype(np.int64)
    return indptr, j.astype(np.int64), score.astype(np.float32)


# --- the model -----------------------------------------------------------------------------

class RelatedItemsModel(Model):
    recipe_name = SIMS

    def __init__(self, item_ids: list[str], indptr: np.ndarray, neighbours: np.ndarray,
                 scores: np.ndarray, popularity: np.ndarray, recipe_name: str = SIMS):
        self.recipe_name = recipe_name
        self.item_ids = list(item_ids)
        self.index = {item: row for row, item in enumerate(self.item_ids)}
        self.indptr, self.neighbours, self.scores = indptr, neighbours, scores
        self.popularity = np.asarray(popularity, dtype=np.float64)
        top = self.popularity.max() if len(self.popularity) else 0.0
        # popular items fill short lists, scored below every real neighbour
        self._fill_scores = torch.from_numpy(
            self.popularity / top * 1e-3 if top > 0 else self.popularity).float()

    def neighbours_of(self, item_id: str) -> tuple[np.ndarray, np.ndarray]:
        row = self.index.get(item_id)
        if row is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        start, end = self.indptr[row], self.indptr[row + 1]
        return self.neighbours[start:end], self.scores[start:end]

    def related_items(self, item_id, num_results, mask=None) -> Scored:
        if num_results <= 0 or not self.item_ids:
            return []
        rows, scores = self.neighbours_of(item_id)
        if mask is not None and len(rows):
            keep = np.asarray(mask, dtype=bool)[rows]
            rows, scores = rows[keep], scores[keep]
        picked = [(self.item_ids[r], float(s)) for r, s in
                  zip(rows[:num_results].tolist(), scores[:num_results].tolist())]
        if len(picked) < num_results:  # too little evidence: popular items fill the list
            excluded = rows[:num_results].tolist()
            if item_id in self.index:
                excluded.append(self.index[item_id])
            allowed = allowed_items(len(self.item_ids), mask, excluded)
            picked += top_scored(self.item_ids, self._fill_scores, allowed,
                                 num_results - len(picked))
        return picked

    def save(self, directory: Path) -> None:
        save_arrays(directory, STATE_FILE, META_FILE,
                    {"indptr": self.indptr, "neighbours": self.neighbours,
                     "scores": self.scores, "popularity": self.popularity},
                    {"recipe": self.recipe_name, "item_ids": self.item_ids})

    @classmethod
    def load(cls, directory: Path) -> "RelatedItemsModel":
        meta, a = load_arrays(directory, STATE_FILE, META_FILE)
        return cls(meta["item_ids"], a["indptr"], a["neighbours"], a["scores"],
                   a["popularity"], meta["recipe"])


class RelatedItemsRecipe(Recipe):
    """One algorithm, two names: aws-similar-items uses item metadata, aws-sims does not."""
    name = SIMILAR_ITEMS
    recipe_type = "RELATED_ITEMS"
    default_hyperparameters = dict(SIMILAR_ITEMS_DEFAULTS)
    model_class = RelatedItemsModel

    def variant(self, name: str) -> "Recipe":
        clone = super().variant(name)
        clone.default_hyperparameters = dict(SIMS_DEFAULTS if name == SIMS
                                             else SIMILAR_ITEMS_DEFAULTS)
        return clone

    @property
    def uses_metadata(self) -> bool:
        return self.name != SIMS

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> RelatedItemsModel:
        params = _params(self.default_hyperparameters, hyperparameters)
        item_ids = known_item_ids(data)
        size = len(item_ids)
        index = {item: row for row, item in enumerate(item_ids)}
        columns = data.interactions.columns
        rows = item_rows(columns.get("ITEM_ID", np.zeros(0, dtype=object)), index)
        users = np.asarray(columns.get("USER_ID", []), dtype=object).astype(str)
        stamps = np.asarray(columns.get("TIMESTAMP", []), dtype=np.float64)
        known = rows >= 0
        popularity = np.bincount(rows[known], minlength=size).astype(np.float64)
        if known.any():
            user_codes, pair_rows = user_item_pairs(users[known], rows[known], stamps[known],
                                                    params["min_percentile"],
                                                    params["max_percentile"])
        else:
            user_codes = pair_rows = np.zeros(0, dtype=np.int64)
        i, j, c, n = cooccurrence(user_codes, pair_rows, size)
        strong = c >= params["min_cointeraction"]
        i, j, c = i[strong], j[strong], c[strong]
        d = params["discount"]
        score = c / (np.power(n[i], 1 - d) * np.power(n[j], d))
        log(f"{self.name}: {len(i)} co-occurring pairs over {size} items")
        if self.uses_metadata and data.items is not None and len(data.items):
            i, j, score = self._blend_metadata(data, item_ids, i, j, score, n, params, seed,
                                               log)
        indptr, neighbours, scores = top_per_row(i, j, score, size, params["neighbours"])
        return RelatedItemsModel(item_ids, indptr, neighbours, scores, popularity, self.name)

    def _blend_metadata(self, data, item_ids, i, j, cooc, n, params, seed, log):
        features = item_feature_matrix(fit_feature_spec(data.items), data.items, item_ids)
        described = features[:, 0] > 0
        if features.shape[1] <= 1 or not described.any():
            return i, j, cooc
        unit = unit_rows(features)
        size = len(item_ids)
        # each row's co-occurrence rescaled so that its best neighbour scores 1
        row_max = np.zeros(size)
        np.maximum.at(row_max, i, cooc)
        cooc = cooc / np.maximum(row_max[i], 1e-12)
        mi, mj = metadata_neighbour_pairs(unit, described, params["neighbours"], seed)
        mi, mj = mi[described[mj]], mj[described[mj]]
        # union of both candidate lists; a metadata-only pair has co-occurrence 0
        all_i, all_j = np.r_[i, mi], np.r_[j, mj]
        all_c = np.r_[cooc, np.zeros(len(mi))]
        keys, inverse = np.unique(all_i * size + all_j, return_inverse=True)
        merged = np.zeros(len(keys))
        np.maximum.at(merged, inverse, all_c)
        i, j = keys // size, keys % size
        meta = pair_cosines(unit, i, j) * (described[i] & described[j])
        weight = np.maximum(params["metadata_weight"], METADATA_PRIOR / (METADATA_PRIOR + n[i]))
        weight = np.where(described[i], weight, 0.0)
        log(f"{self.name}: blended with metadata of {int(described.sum())} items")
        return i, j, (1 - weight) * merged + weight * meta


RECIPE = RelatedItemsRecipe()
