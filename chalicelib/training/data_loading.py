"""Gather a dataset group's data for training: imported files plus live events and records."""
from __future__ import annotations

import numpy as np

from chalicelib.datasets.schema import parse_schema
from chalicelib.datasets.tables import load_table
from chalicelib.resources import kinds
from chalicelib.training.data import Table, TrainingData

_ID_FIELD = {"Items": "ITEM_ID", "Users": "USER_ID"}


def account_prefix(arn: str) -> str:
    """'arn:aws:personalize:<region>:<account>' of any resource ARN."""
    return ":".join(arn.split(":")[:5])


def group_datasets(registry, dataset_group_arn: str) -> dict[str, dict]:
    """Dataset type -> dataset record, for the live datasets of a group."""
    docs = registry.list(kinds.DATASET, account_prefix(dataset_group_arn),
                         lambda d: d["datasetGroupArn"] == dataset_group_arn
                         and d["status"] != "DELETE PENDING")
    return {d["datasetType"]: d for d in docs}


def load_training_data(backend, dataset_group_arn: str) -> tuple[TrainingData, int]:
    """The data, and the sequence number of the last live event it includes."""
    tables = {}
    for dataset_type, dataset in group_datasets(backend.registry, dataset_group_arn).items():
        schema = parse_schema(backend.registry.get(kinds.SCHEMA, dataset["schemaArn"])["schema"])
        files = sorted(backend.artifacts.dataset_dir(dataset["datasetArn"]).glob("*.csv"))
        table = load_table(files, schema) if files else None
        if dataset_type in _ID_FIELD:
            records = backend.events.records(dataset["datasetArn"])
            if records:
                table = append_rows(table, records, schema, latest_wins=_ID_FIELD[dataset_type])
        tables[dataset_type] = table
    events = backend.events.events(dataset_group_arn)
    last_seq = events[-1]["SEQ"] if events else 0
    interactions = tables.get("Interactions")
    live = [e for e in events if e.get("USER_ID")]
    if live:
        interactions = append_rows(interactions, live, None)
    if interactions is None or len(interactions) == 0:
        interactions = Table({"USER_ID": np.array([], dtype=object),
                              "ITEM_ID": np.array([], dtype=object),
                              "TIMESTAMP": np.array([], dtype=np.float64)})
    return TrainingData(interactions, tables.get("Items"), tables.get("Users")), last_seq


def append_rows(table: Table | None, rows: list[dict], schema,
                latest_wins: str | None = None) -> Table:
    """Table + dict rows (live events or records). Columns absent from a row get NaN / ''."""
    columns = {} if table is None else {k: list(v) for k, v in table.columns.items()}
    kinds_ = {} if table is None else dict(table.kinds)
    length = 0 if table is None else len(table)
    names = set(columns) | {k for row in rows for k in row if k not in ("SEQ", "SESSION_ID")}
    for name in names:
        columns.setdefault(name, [None] * length)
    for row in rows:
        for name in names:
            columns[name].append(row.get(name))
    if latest_wins:  # keep the last occurrence of each id
        ids = columns[latest_wins]
        keep = sorted({value: index for index, value in enumerate(ids)}.values())
        columns = {k: [v[i] for i in keep] for k, v in columns.items()}
    arrays = {}
    for name, values in columns.items():
        if name in ("TIMESTAMP", "EVENT_VALUE") or kinds_.get(name) == "numerical":
            arrays[name] = np.array([np.nan if v is None or v == "" else float(v)
                                     for v in values], dtype=np.float64)
        else:
            arrays[name] = np.array(["" if v is None else v for v in values], dtype=object)
    return Table(arrays, kinds_)
