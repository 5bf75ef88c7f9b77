"""Normalised import files -> typed numpy columns (a Table).

Files are read in the order given (import order). Interactions keep every row; for Items,
Users and Actions a later row for the same id replaces the earlier one, as a later import
does in AWS. Columns of the schema that a file lacks (it was imported before UpdateDataset
added them) read as empty; columns a file has but the schema lacks are dropped.
"""
from __future__ import annotations

import csv
import gc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chalicelib.datasets.schema import (ACTIONS, ITEMS, NUMERICAL, TIMESTAMP, USERS, Schema)

_ENTITY_ID = {ITEMS: "ITEM_ID", USERS: "USER_ID", ACTIONS: "ACTION_ID"}
_FLOAT32_COLUMNS = {"EVENT_VALUE"}   # the TrainingData contract keeps event values as float32


@dataclass
class Table:
    """Columns keyed by upper-cased schema field name, all of one length; `kinds` maps
    each to its column kind (chalicelib.datasets.schema: id, categorical, numerical, ...)."""
    columns: dict[str, np.ndarray]
    kinds: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str) -> np.ndarray | None:
        return self.columns.get(name)


def load_table(paths: list[Path], schema: Schema, dataset_type: str | None = None) -> Table:
    """One Table from normalised CSVs. Without `dataset_type` it is inferred: a schema with
    TIMESTAMP holds interactions; otherwise its id field makes it an entity dataset."""
    # Millions of small row objects would set the cyclic collector off again and again while
    # nothing here can form a cycle: pausing it roughly halves the load time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, schema, dataset_type)
    finally:
        if collecting:
            gc.enable()


def _load(paths, schema: Schema, dataset_type: str | None) -> Table:
    names = schema.names
    parts: dict[str, list] = {name: [] for name in names}
    for path in paths:
        for name, values in _read_columns(Path(path), names).items():
            parts[name].append(values)
    strings = {name: chunks[0] if len(chunks) == 1 else [v for c in chunks for v in c]
               for name, chunks in parts.items()}
    id_field = _entity_id_field(schema, dataset_type)
    if id_field is not None:
        keep = _last_occurrences(strings[id_field])
        if keep is not None:
            strings = {name: [values[i] for i in keep] for name, values in strings.items()}
    kinds = schema.kinds
    columns = {name: _typed(values, kinds[name], name) for name, values in strings.items()}
    return Table(columns, kinds)


def _read_columns(path: Path, names: list[str]) -> dict[str, tuple | list]:
    """The file's values per schema column (all as text), transposed in C by zip."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return {name: () for name in names}
        rows = [row for row in reader if row]
    columns = list(zip(*rows)) if rows else [()] * len(header)
    del rows
    position = {name.upper(): index for index, name in enumerate(header)}
    count = len(columns[0]) if columns else 0
    return {name: columns[position[name]] if name in position else ("",) * count
            for name in names}


def _entity_id_field(schema: Schema, dataset_type: str | None) -> str | None:
    if dataset_type is not None:
        return _ENTITY_ID.get(dataset_type)
    if schema.field("TIMESTAMP") is not None:
        return None   # interactions or action interactions: every row counts
    return next((f for f in ("ITEM_ID", "USER_ID", "ACTION_ID") if schema.field(f)), None)


def _last_occurrences(ids: list[str]) -> list[int] | None:
    """Row positions to keep so each id appears once, at its last row; None if unique."""
    last = {value: index for index, value in enumerate(ids)}
    if len(last) == len(ids):
        return None
    return sorted(last.values())


def _typed(values, kind: str, name: str) -> np.ndarray:
    if kind not in (NUMERICAL, TIMESTAMP):
        return np.array(values, dtype=object)
    dtype = np.float32 if name in _FLOAT32_COLUMNS else np.float64
    try:   # the common case, no empty cells: float() on each, straight into the array
        parsed = np.fromiter(map(float, values), np.float64, len(values))
    except ValueError:   # empty cells (nullable fields) read as NaN
        parsed = np.fromiter((float(v) if v else np.nan for v in values), np.float64,
                             len(values))
    return parsed.astype(dtype, copy=False)
