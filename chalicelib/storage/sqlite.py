"""SQLite backend: one file, WAL mode, a connection per thread.

The training task (another process) writes to the same file, so every write is a short
IMMEDIATE transaction and readers never block writers.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterable

from chalicelib.storage.base import AlreadyExists, Doc, EventStore, ResourceStore
from chalicelib.storage.documents import dumps
from chalicelib.storage.group_commit import GroupCommit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, arn TEXT PRIMARY KEY, created REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS resources_kind ON resources (kind, arn);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, dataset_group TEXT NOT NULL,
    user_id TEXT, session_id TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_user ON events (dataset_group, user_id, seq);
CREATE INDEX IF NOT EXISTS events_session ON events (dataset_group, session_id);
-- PutEvents with a userId relabels the session's anonymous events: this index holds only
-- those, so the relabel does not scan every event the session ever sent.
CREATE INDEX IF NOT EXISTS events_anonymous ON events (dataset_group, session_id)
    WHERE user_id IS NULL;
CREATE TABLE IF NOT EXISTS records (
    dataset TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (dataset, id));
"""


class SqliteDatabase:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self.connection() as db:
            db.executescript(_SCHEMA)
        self._group_commit = GroupCommit(self._open)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
        return db

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    def write(self):
        return _Transaction(self.connection())

    def write_grouped(self, work: Callable[[sqlite3.Connection], object]):
        """`work(db)` committed together with the other writes waiting now (group commit:
        the live-event writes, which arrive many at a time)."""
        return self._group_commit.run(work)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, trace):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


class SqliteResourceStore(ResourceStore):
    def __init__(self, database: SqliteDatabase):
        self.database = database

    def create(self, kind, arn, doc):
        try:
            with self.database.write() as db:
                db.execute("INSERT INTO resources VALUES (?, ?, ?, ?)",
                           (kind, arn, doc.get("creationDateTime", 0), json.dumps(doc)))
        except sqlite3.IntegrityError:
            raise AlreadyExists(arn) from None

    def get(self, kind, arn):
        row = self.database.connection().execute(
            "SELECT doc FROM resources WHERE arn = ? AND kind = ?", (arn, kind)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind, arn, doc):
        with self.database.write() as db:
            db.execute("INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?)",
                       (kind, arn, doc.get("creationDateTime", 0), json.dumps(doc)))

    def update(self, kind, arn, change: Callable[[Doc], Doc | None]):
        with self.database.write() as db:
            row = db.execute("SELECT doc FROM resources WHERE arn = ? AND kind = ?",
                             (arn, kind)).fetchone()
            if row is None:
                return None
            new = change(json.loads(row[0]))
            if new is None:
                return json.loads(row[0])
            db.execute("UPDATE resources SET doc = ? WHERE arn = ?", (json.dumps(new), arn))
            return new

    def delete(self, kind, arn):
        with self.database.write() as db:
            db.execute("DELETE FROM resources WHERE arn = ? AND kind = ?", (arn, kind))

    def list(self, kind, arn_prefix=""):
        rows = self.database.connection().execute(
            "SELECT doc FROM resources WHERE kind = ? AND arn >= ? AND arn < ? "
            "ORDER BY created, arn", (kind, arn_prefix, arn_prefix + "\uffff")).fetchall()
        return [json.loads(r[0]) for r in rows]


class SqliteEventStore(EventStore):
    def __init__(self, database: SqliteDatabase):
        self.database = database

    def append_events(self, dataset_group_arn, rows: Iterable[Doc]) -> int:
        insert = self._inserting(dataset_group_arn, rows)
        return self.database.write_grouped(insert) if insert else 0

    def append_user_events(self, dataset_group_arn, rows, session_id, user_id) -> int:
        # One group-committed write instead of two: a PutEvents call waits for one
        # commit, not for two in a row.
        insert = self._inserting(dataset_group_arn, rows)
        relabel = self._relabelling(dataset_group_arn, session_id, user_id)

        def both(db):
            last = insert(db) if insert else 0
            relabel(db)
            return last
        return self.database.write_grouped(both)

    @staticmethod
    def _inserting(dataset_group_arn, rows: Iterable[Doc]):
        values = [(dataset_group_arn, row.get("USER_ID"), row.get("SESSION_ID"),
                   dumps(row)) for row in rows]
        if not values:
            return None

        def insert(db):
            db.executemany("INSERT INTO events (dataset_group, user_id, session_id, doc) "
                           "VALUES (?, ?, ?, ?)", values)
            # executemany leaves cursor.lastrowid alone; SQLite's own counter has it
            return db.execute("SELECT last_insert_rowid()").fetchone()[0]
        return insert

    def _rows(self, sql, args) -> list[Doc]:
        result = []
        for seq, doc in self.database.connection().execute(sql, args).fetchall():
            row = json.loads(doc)
            row["SEQ"] = seq
            result.append(row)
        return result

    def user_events(self, dataset_group_arn, user_id, after_seq=0, limit=500):
        rows = self._rows(
            "SELECT seq, doc FROM events WHERE dataset_group = ? AND user_id = ? AND seq > ? "
            "ORDER BY seq DESC LIMIT ?", (dataset_group_arn, user_id, after_seq, limit))
        return rows[::-1]

    def events(self, dataset_group_arn, after_seq=0):
        return self._rows("SELECT seq, doc FROM events WHERE dataset_group = ? AND seq > ? "
                          "ORDER BY seq", (dataset_group_arn, after_seq))

    def last_seq(self, dataset_group_arn):
        row = self.database.connection().execute(
            "SELECT MAX(seq) FROM events WHERE dataset_group = ?",
            (dataset_group_arn,)).fetchone()
        return row[0] or 0

    def relabel_session(self, dataset_group_arn, session_id, user_id):
        self.database.write_grouped(self._relabelling(dataset_group_arn, session_id, user_id))

    @staticmethod
    def _relabelling(dataset_group_arn, session_id, user_id):
        def relabel(db):
            rows = db.execute("SELECT seq, doc FROM events WHERE dataset_group = ? AND "
                              "session_id = ? AND user_id IS NULL",
                              (dataset_group_arn, session_id)).fetchall()
            for seq, doc in rows:
                row = json.loads(doc)
                row["USER_ID"] = user_id
                db.execute("UPDATE events SET user_id = ?, doc = ? WHERE seq = ?",
                           (user_id, json.dumps(row), seq))
        return relabel

    def upsert_records(self, dataset_arn, id_field, rows):
        values = [(dataset_arn, row[id_field], json.dumps(row)) for row in rows]
        self.database.write_grouped(
            lambda db: db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", values))

    def records(self, dataset_arn):
        rows = self.database.connection().execute(
            "SELECT doc FROM records WHERE dataset = ? ORDER BY rowid", (dataset_arn,))
        return [json.loads(r[0]) for r in rows]

    def delete_dataset_group_data(self, dataset_group_arn):
        with self.database.write() as db:
            db.execute("DELETE FROM events WHERE dataset_group = ?", (dataset_group_arn,))

    def delete_user_data(self, dataset_group_arn, user_ids, dataset_arns=()):
        users = sorted(user_ids)
        with self.database.write() as db:
            deleted = 0
            for group in (dataset_group_arn, dataset_group_arn + "#action-interactions"):
                deleted += db.executemany(
                    "DELETE FROM events WHERE dataset_group = ? AND user_id = ?",
                    [(group, u) for u in users]).rowcount
            for dataset in dataset_arns:
                deleted += db.executemany("DELETE FROM records WHERE dataset = ? AND id = ?",
                                          [(dataset, u) for u in users]).rowcount
            return deleted
