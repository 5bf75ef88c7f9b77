"""Normalised import files -> typed numpy columns (chalicelib.training.data.Table)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from chalicelib.datasets.schema import Schema
from chalicelib.training.data import Table


def load_table(paths: list[Path], schema: Schema) -> Table:
    columns: dict[str, list] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
        length = sum(len(v) for v in columns.values()) // max(len(columns), 1)
        for name in header:
            columns.setdefault(name, [""] * length)
        for index, name in enumerate(header):
            columns[name].extend(row[index] for row in rows)
        for name in columns:
            if name not in header:
                columns[name].extend([""] * len(rows))
    arrays, kinds = {}, {}
    for name, values in columns.items():
        field = schema.field(name)
        kind = field.kind if field else "string"
        kinds[name] = kind
        if kind in ("timestamp", "numerical"):
            arrays[name] = np.array([float(v) if v != "" else np.nan for v in values])
        else:
            arrays[name] = np.array(values, dtype=object)
    return Table(arrays, kinds)
