"""The one reader of a dataset group's data: its datasets, their parsed schemas (column
kinds come from there), and each dataset as a Table of its imports merged with the
PutItems / PutUsers records stored since. Training, the serving catalogue, events
validation, CreateFilter, metric attributions, export and deletion all read through here.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from chalicelib.datasets.schema import (ITEMS, NUMERICAL, USERS, Field, Schema,
                                        parse_schema)
from chalicelib.datasets.tables import Table, load_table
from chalicelib.records import kinds

ENTITY_ID = {ITEMS: "ITEM_ID", USERS: "USER_ID"}   # datasets PutItems / PutUsers add to
_NOT_COLUMNS = ("SEQ", "SESSION_ID")   # bookkeeping of stored events, never a column
_TTL_SECONDS = 5.0


def account_prefix(arn: str) -> str:
    """'arn:aws:personalize:<region>:<account>' of any resource ARN."""
    return ":".join(arn.split(":")[:5])


def group_datasets(registry, dataset_group_arn: str) -> dict[str, dict]:
    """Dataset type ('Items', 'Interactions', ...) -> live dataset record of the group."""
    docs = registry.list(kinds.DATASET, account_prefix(dataset_group_arn),
                         lambda d: d.get("datasetGroupArn") == dataset_group_arn
                         and d["status"] != "DELETE PENDING")
    return {d["datasetType"]: d for d in docs}


def dataset_schema(registry, dataset: dict) -> Schema | None:
    """The dataset's schema, parsed (None when the schema record is gone)."""
    schema = registry.find(kinds.SCHEMA, dataset["schemaArn"])
    return None if schema is None else parse_schema(schema["schema"])


def schema_fields(schema: Schema | None) -> dict[str, Field]:
    """FIELD_NAME (upper-cased) -> its Field (kind, Avro type, flags)."""
    return {} if schema is None else {f.name: f for f in schema.fields}


def group_fields(registry, dataset_group_arn: str) -> dict[str, dict[str, Field]]:
    """Dataset type -> {FIELD_NAME: Field} for each live dataset of the group."""
    return {dataset_type: schema_fields(dataset_schema(registry, dataset))
            for dataset_type, dataset in group_datasets(registry, dataset_group_arn).items()}


class SchemaCache:
    """group_fields, refreshed every few seconds: PutEvents asks on every call, and
    schemas change only through UpdateDataset (adding fields), where a few seconds of
    staleness is harmless."""

    def __init__(self, registry, ttl: float = _TTL_SECONDS):
        self.registry = registry
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def fields(self, dataset_group_arn: str) -> dict[str, dict[str, Field]]:
        now = time.monotonic()
        hit = self._cache.get(dataset_group_arn)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = group_fields(self.registry, dataset_group_arn)
        with self._lock:
            self._cache[dataset_group_arn] = (now, value)
        return value


def imported_files(backend, dataset: dict) -> list:
    """The dataset's normalised import files, in import order."""
    return sorted(backend.artifacts.dataset_dir(dataset["datasetArn"]).glob("*.csv"))


def read_dataset(backend, dataset: dict, dataset_type: str | None = None,
                 schema: Schema | None = None) -> Table | None:
    """The dataset's imports plus, for Items and Users, its PutItems/PutUsers records (the
    latest row per id wins). None when there is no data."""
    schema = schema or dataset_schema(backend.registry, dataset)
    files = imported_files(backend, dataset)
    table = load_table(files, schema) if files else None
    id_field = ENTITY_ID.get(dataset_type or dataset.get("datasetType"))
    if id_field is not None:
        records = backend.events.records(dataset["datasetArn"])
        if records:
            table = merge_rows(table, records, latest_wins=id_field)
    return table


def merge_rows(table: Table | None, rows: list[dict],
               latest_wins: str | None = None) -> Table:
    """Table + dict rows (live events or records). Columns absent from a row get NaN / ''.
    With `latest_wins` (an id field), the last row of each id is kept (a record replaces
    the item)."""
    columns = {} if table is None else {k: list(v) for k, v in table.columns.items()}
    kinds_ = {} if table is None else dict(table.kinds)
    length = 0 if table is None else len(table)
    names = set(columns) | {k for row in rows for k in row if k not in _NOT_COLUMNS}
    for name in names:
        columns.setdefault(name, [None] * length)
    for row in rows:
        for name in names:
            columns[name].append(row.get(name))
    if latest_wins:
        ids = columns[latest_wins]
        keep = sorted({value: index for index, value in enumerate(ids)}.values())
        columns = {k: [v[i] for i in keep] for k, v in columns.items()}
    arrays = {}
    for name, values in columns.items():
        if name in ("TIMESTAMP", "EVENT_VALUE") or kinds_.get(name) == NUMERICAL:
            arrays[name] = np.array([np.nan if v is None or v == "" else float(v)
                                     for v in values], dtype=np.float64)
        else:
            arrays[name] = np.array(["" if v is None else v for v in values], dtype=object)
    return Table(arrays, kinds_)
