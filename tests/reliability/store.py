"""Reading an Endpoint's SQLite file directly, as an operator would after a crash."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path


def database(data_dir: Path) -> Path:
    return Path(data_dir) / "personalize.sqlite3"


def count_events(data_dir: Path, dataset_group_arn: str | None = None) -> int:
    with closing(sqlite3.connect(database(data_dir), timeout=30)) as db:
        if dataset_group_arn is None:
            return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM events WHERE dataset_group = ?",
                          (dataset_group_arn,)).fetchone()[0]


def event_ids(data_dir: Path) -> set[str]:
    with closing(sqlite3.connect(database(data_dir), timeout=30)) as db:
        return {json.loads(doc).get("EVENT_ID") for (doc,) in
                db.execute("SELECT doc FROM events")}


def resource(data_dir: Path, arn: str) -> dict | None:
    with closing(sqlite3.connect(database(data_dir), timeout=30)) as db:
        row = db.execute("SELECT doc FROM resources WHERE arn = ?", (arn,)).fetchone()
    return json.loads(row[0]) if row else None


def records(data_dir: Path, dataset_arn: str) -> list[dict]:
    """PutItems/PutUsers rows of a dataset, as stored."""
    with closing(sqlite3.connect(database(data_dir), timeout=30)) as db:
        rows = db.execute("SELECT doc FROM records WHERE dataset = ?", (dataset_arn,))
        return [json.loads(doc) for (doc,) in rows]


def insert_event(data_dir: Path, dataset_group_arn: str, row: dict) -> None:
    """An event written straight into the store, as an older version could have stored
    it (for instance with a lone surrogate the wire now refuses)."""
    with closing(sqlite3.connect(database(data_dir), timeout=30)) as db, db:
        db.execute("INSERT INTO events (dataset_group, user_id, session_id, doc) "
                   "VALUES (?, ?, ?, ?)", (dataset_group_arn, row.get("USER_ID"),
                                           row.get("SESSION_ID"), json.dumps(row)))
