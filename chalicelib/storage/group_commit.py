"""Group commit: one writer thread turns many waiting writes into one SQLite transaction
(GroupCommit), or into one round of DynamoDB calls (storage/dynamodb.py).

SQLite takes one writer at a time. With a transaction per PutEvents call, concurrent calls
queue on the database lock, and SQLite's busy handler sleeps in steps of up to 100 ms while
it waits: that, not the commit itself, was the tail latency of concurrent PutEvents. Here
callers hand their write to a single writer thread and wait; the writer takes every write
that is waiting, runs each in its own savepoint (one failing write does not undo the
others), commits once, and only then wakes the callers. A caller is acknowledged only
after its rows are committed, so kill -9 loses no acknowledged write.

Writes run on the writer thread: a write must not itself wait for another group-committed
write (it would wait for its own thread).
"""
from __future__ import annotations

import os
import queue
import sqlite3
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


class Pending:
    """One caller's write, waiting for the writer thread. Its latch is a lock the caller
    blocks on until the writer releases it: acquire and release are single C calls, where
    a threading.Event is a Condition, a lock and Python code on both sides (together 7% of
    the server's time under concurrent PutEvents)."""
    __slots__ = ("work", "_latch", "result", "error")

    def __init__(self, work):
        self.work = work
        self._latch = threading.Lock()
        self._latch.acquire()
        self.result = None
        self.error: BaseException | None = None

    def wait(self) -> None:
        self._latch.acquire()

    def finish(self) -> None:
        self._latch.release()


class WriteBatcher:
    """Callers hand their write to one writer thread and wait; the writer takes every write
    that is waiting and `_flush`es them together, then wakes the callers. `_flush` sets
    each Pending's result or error; if it raises, every write of the batch gets that error."""

    def __init__(self, max_batch: int = 512, name: str = "group-commit"):
        self._max_batch = max_batch
        self._name = name
        self._waiting: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._owner_pid = None  # the writer thread belongs to one process (not to a fork)

    def submit(self, work) -> T:
        """Hand `work` to the next batch; returns its result once the batch is flushed."""
        self._ensure_writer()
        write = Pending(work)
        self._waiting.put(write)
        write.wait()
        if write.error is not None:
            raise write.error
        return write.result

    def _flush(self, batch: list[Pending]) -> None:
        raise NotImplementedError

    def _failed(self, error: BaseException) -> None:
        """After `_flush` raised: leave the writer's resources ready for the next batch."""

    def _ensure_writer(self) -> None:
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid != os.getpid():
                self._waiting = queue.SimpleQueue()
                threading.Thread(target=self._write_forever, name=self._name,
                                 daemon=True).start()
                self._owner_pid = os.getpid()

    def _write_forever(self) -> None:
        waiting = self._waiting
        while True:
            batch = [waiting.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._flush(batch)
            except BaseException as error:  # the whole batch failed, and the writer must
                for write in batch:         # go on
                    write.error = write.error or error
                self._failed(error)
            for write in batch:
                write.finish()


class GroupCommit(WriteBatcher):
    """SQLite: the batch is one transaction, each write in its own savepoint.

    The writer's connection does not checkpoint the WAL automatically: SQLite's automatic
    checkpoint runs inside the COMMIT that crosses 1,000 WAL pages (about ten times a second
    under 4 PutEvents clients), copying those pages into the database and syncing it while
    every waiting caller waits (it was the p99 of PutEvents). A checkpointer thread with
    its own connection copies them instead (PASSIVE: the writer goes on meanwhile). The WAL
    is only rewound from its start by a write that begins with every frame copied, so the
    writer then checkpoints the few frames committed since, itself, before its next batch.
    Commits stay as durable as before: they are in the WAL when acknowledged."""

    CHECKPOINT_EVERY = 32   # batches committed between two wake-ups of the checkpointer

    def __init__(self, connect: Callable[[], sqlite3.Connection], max_batch: int = 512):
        super().__init__(max_batch, name="sqlite-group-commit")
        self._connect = connect
        self._db: sqlite3.Connection | None = None
        self._db_pid = None
        self._checkpoint_due = threading.Event()
        self._copied = threading.Event()   # the checkpointer finished a pass
        self._batches = 0

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(db)` inside the next group transaction; returns once it is committed."""
        return self.submit(work)

    def _flush(self, batch: list[Pending]) -> None:
        if self._db is None or self._db_pid != os.getpid():  # opened on the writer thread
            self._db, self._db_pid = self._connect(), os.getpid()
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            threading.Thread(target=self._checkpoint_forever, name="sqlite-checkpoint",
                             daemon=True).start()
        if self._copied.is_set():   # the bulk is copied: the rest, so the WAL rewinds
            self._copied.clear()
            _checkpoint(self._db)
        self._commit(self._db, batch)
        self._batches += 1
        if self._batches % self.CHECKPOINT_EVERY == 0:
            self._checkpoint_due.set()

    def _checkpoint_forever(self) -> None:
        db = self._connect()
        while True:
            self._checkpoint_due.wait(timeout=1.0)
            self._checkpoint_due.clear()
            if self._copied.is_set():   # the writer has not caught up yet: a pass now
                continue                # would make its checkpoint busy
            if _checkpoint(db) is not None:
                self._copied.set()

    def _failed(self, error: BaseException) -> None:
        # BEGIN or COMMIT failed, or a write broke the transaction: none of it is stored
        if self._db is not None and self._db.in_transaction:
            self._db.execute("ROLLBACK")

    @staticmethod
    def _commit(db: sqlite3.Connection, batch: list[Pending]) -> None:
        db.execute("BEGIN IMMEDIATE")
        for write in batch:
            db.execute("SAVEPOINT one_write")
            try:
                write.result = write.work(db)
                db.execute("RELEASE one_write")
            except BaseException as error:  # handed back to its caller, not lost here
                db.execute("ROLLBACK TO one_write")
                db.execute("RELEASE one_write")
                write.error = error
        db.execute("COMMIT")


def _checkpoint(db: sqlite3.Connection) -> int | None:
    """A PASSIVE checkpoint: the WAL's frames, all now copied into the database (None when
    it could not copy them all, e.g. a reader still needs older frames)."""
    try:
        busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error:   # busy or closing: the next round checkpoints
        return None
    if busy or frames != copied:
        return None
    return frames
