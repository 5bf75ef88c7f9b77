"""Group commit of live-event writes: batched, isolated per write, durable when answered."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from chalicelib.storage.group_commit import GroupCommit
from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore


def test_concurrent_writes_share_transactions_and_all_are_stored(tmp_path, monkeypatch):
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    store = SqliteEventStore(database)
    commits = []
    original = GroupCommit._commit

    def counting(db, batch):
        commits.append(len(batch))
        original(db, batch)
    monkeypatch.setattr(GroupCommit, "_commit", staticmethod(counting))
    threads = [threading.Thread(target=lambda n=n: [store.append_events(
        "group", [{"USER_ID": f"u{n}", "ITEM_ID": f"i{k}", "EVENT_ID": f"{n}-{k}"}])
        for k in range(50)]) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(commits) == 400
    assert len(commits) < 400  # some calls waited together and were committed as one
    stored = store.events("group")
    assert sorted(row["EVENT_ID"] for row in stored) == sorted(
        f"{n}-{k}" for n in range(8) for k in range(50))


def test_a_failing_write_does_not_undo_the_others_in_its_batch(tmp_path):
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    barrier = threading.Barrier(4)
    errors = []

    def write(n):
        barrier.wait()
        def work(db):
            db.execute("INSERT INTO records VALUES ('d', ?, '{}')", (f"id{n}",))
            if n == 2:
                raise ValueError("bad write")
        try:
            database.write_grouped(work)
        except ValueError as error:
            errors.append(str(error))
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == ["bad write"]
    ids = {row[0] for row in database.connection().execute("SELECT id FROM records")}
    assert ids == {"id0", "id1", "id3"}


def test_a_write_that_breaks_the_transaction_fails_alone_and_the_writer_goes_on(tmp_path):
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.OperationalError):
        database.write_grouped(lambda db: db.execute("COMMIT"))  # ends the group's transaction
    database.write_grouped(lambda db: db.execute("INSERT INTO records VALUES ('d', 'x', '{}')"))
    assert database.connection().execute("SELECT id FROM records").fetchall() == [("x",)]


def test_an_answered_write_is_visible_to_a_new_connection(tmp_path):
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    SqliteEventStore(database).append_events("group", [{"USER_ID": "u", "ITEM_ID": "i"}])
    other = sqlite3.connect(tmp_path / "db.sqlite3")
    assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_relabelling_a_session_reads_only_its_anonymous_events(tmp_path):
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    plan = database.connection().execute(
        "EXPLAIN QUERY PLAN SELECT seq, doc FROM events WHERE dataset_group = ? AND "
        "session_id = ? AND user_id IS NULL", ("g", "s")).fetchall()
    assert any("events_anonymous" in str(step) for step in plan), plan


@pytest.mark.parametrize("anonymous", [True, False])
def test_relabel_gives_anonymous_session_events_to_the_user(tmp_path, anonymous):
    store = SqliteEventStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    store.append_events("g", [{"USER_ID": None if anonymous else "other", "SESSION_ID": "s",
                               "ITEM_ID": "i"}])
    store.relabel_session("g", "s", "u")
    assert [row["ITEM_ID"] for row in store.user_events("g", "u")] == (["i"] if anonymous else [])


def test_put_events_with_a_user_is_one_group_committed_write(tmp_path):
    """The rows and the session's relabelling are committed together: the caller waits for
    one commit, and a crash cannot leave the new rows stored without the relabelling."""
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    store = SqliteEventStore(database)
    store.append_events("g", [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "before"}])
    writes = []
    original = database.write_grouped
    database.write_grouped = lambda work: writes.append(work) or original(work)
    last = store.append_user_events("g", [{"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "a"},
                                          {"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "b"}],
                                    "s", "u")
    assert len(writes) == 1
    assert last == store.last_seq("g")
    assert [row["ITEM_ID"] for row in store.user_events("g", "u")] == ["before", "a", "b"]


def test_the_wal_is_checkpointed_beside_the_writer_and_rewound(tmp_path, monkeypatch):
    # The writer's own connection does not checkpoint automatically (that stalled every
    # waiting caller); the checkpointer thread and the writer's short catch-up must, or
    # the WAL would grow with every event ever sent.
    monkeypatch.setattr(GroupCommit, "CHECKPOINT_EVERY", 4)
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    store = SqliteEventStore(database)
    row = {"USER_ID": "u", "ITEM_ID": "i", "PROPERTIES": "x" * 2000}
    wal = tmp_path / "db.sqlite3-wal"
    sizes = []
    for batch in range(300):   # ~6 MB of events, a write at a time
        store.append_events("group", [dict(row, EVENT_ID=f"{batch}-{k}") for k in range(10)])
        sizes.append(wal.stat().st_size)
    assert len(store.events("group")) == 3000
    writer = database._group_commit._db
    assert writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    # the WAL header's checkpoint sequence number counts the times the WAL was rewound to
    # its start; the file never shrinks, but it stops growing
    rewinds = int.from_bytes(wal.read_bytes()[12:16], "big")
    assert rewinds >= 2, rewinds
    assert max(sizes) < 14_000_000, max(sizes)   # without checkpoints: about 20 MB
