"""Group commit: one writer thread turns many waiting writes into one SQLite transaction.

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


class _Write:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work):
        self.work = work
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, connect: Callable[[], sqlite3.Connection], max_batch: int = 512):
        self._connect = connect
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Write] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._owner_pid = None  # the writer thread belongs to one process (not to a fork)

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(db)` inside the next group transaction; returns once it is committed."""
        self._ensure_writer()
        write = _Write(work)
        self._waiting.put(write)
        write.done.wait()
        if write.error is not None:
            raise write.error
        return write.result

    def _ensure_writer(self) -> None:
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid != os.getpid():
                self._waiting = queue.SimpleQueue()
                threading.Thread(target=self._write_forever, name="sqlite-group-commit",
                                 daemon=True).start()
                self._owner_pid = os.getpid()

    def _write_forever(self) -> None:
        db = self._connect()
        waiting = self._waiting
        while True:
            batch = [waiting.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit(db, batch)
            except BaseException as error:  # BEGIN or COMMIT failed, or a write broke the
                # transaction: none of the batch is stored, and the writer must go on
                for write in batch:
                    write.error = write.error or error
                if db.in_transaction:
                    db.execute("ROLLBACK")
            for write in batch:
                write.done.set()

    @staticmethod
    def _commit(db: sqlite3.Connection, batch: list[_Write]) -> None:
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
