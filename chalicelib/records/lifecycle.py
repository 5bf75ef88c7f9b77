"""Every kind's status transitions, declared once (as moto's ManagedState declares them),
and the one engine that moves records along them.

Two ways a record moves on:

* by time (`Timed`): a record in a transient status moves to the next one by itself, a
  while after its stamp. Nothing runs in the background: the move is made when the record
  is read (Registry), so it works the same in Lambda and survives restarts. Resources with
  no real work behind them (dataset groups, datasets, filters, campaigns, ...) settle to
  ACTIVE this way, deleted ones vanish, and recommenders Start and Stop.
* by work (`Work`): a worker (a batch job, a dataset import, a training task) starts the
  record, does the work, and finishes it done or failed with the reason; a stop request,
  where the kind has one, wins over a late success.

Which kind follows which lifecycle is declared in chalicelib/records/kinds.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from chalicelib.errors import ResourceNotFoundException, ServiceError

log = logging.getLogger(__name__)

CREATE_PENDING, CREATE_IN_PROGRESS = "CREATE PENDING", "CREATE IN_PROGRESS"
ACTIVE, CREATE_FAILED = "ACTIVE", "CREATE FAILED"
CREATE_STOPPING, CREATE_STOPPED = "CREATE STOPPING", "CREATE STOPPED"
DELETE_PENDING = "DELETE PENDING"
UPDATE_PENDING, UPDATE_IN_PROGRESS = "UPDATE PENDING", "UPDATE IN_PROGRESS"
STOP_PENDING, STOP_IN_PROGRESS, INACTIVE = "STOP PENDING", "STOP IN_PROGRESS", "INACTIVE"
START_PENDING, START_IN_PROGRESS = "START PENDING", "START IN_PROGRESS"


def not_deleted(doc: dict) -> bool:
    """Not DELETE PENDING ("live" in this code base means events since training)."""
    return doc["status"] != DELETE_PENDING


# -- by time ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timed:
    """transient status -> the next one, reached `settle_seconds` after the record's
    `stamp` field. `restamp`: each step waits anew (Start/Stop take two steps); otherwise
    the record lands where it goes at once, dated when it was due."""
    steps: dict[str, str]
    stamp: str
    restamp: bool = False

    def due(self, doc: dict, now: float, default: float = float("inf")) -> bool:
        """In a transient status whose time has come (`default`: when there is no stamp)."""
        return doc["status"] in self.steps and now >= doc.get(self.stamp, default)

    def advance(self, doc: dict, now: float, settle_seconds: float) -> dict | None:
        """Apply the step to `doc` (inside a store update); None when there is none to
        take (another reader took it first)."""
        if doc["status"] not in self.steps or (not self.restamp and self.stamp not in doc):
            return None
        doc["status"] = self.steps[doc["status"]]
        if self.restamp:
            doc[self.stamp] = now + settle_seconds
        else:
            doc["lastUpdatedDateTime"] = doc.pop(self.stamp)
        return doc

    def begin(self, doc: dict, status: str, now: float, settle_seconds: float) -> None:
        """Put a record into a transient status; it moves on by itself from there."""
        doc["status"] = status
        doc[self.stamp] = now + settle_seconds


# Resources without work behind them: ACTIVE a moment after creation or update.
SETTLING = Timed({CREATE_PENDING: ACTIVE, CREATE_IN_PROGRESS: ACTIVE,
                  UPDATE_PENDING: ACTIVE, UPDATE_IN_PROGRESS: ACTIVE}, "_settleAt")
# DeleteX: DELETE PENDING now, gone a moment later.
DELETION = Timed({DELETE_PENDING: ""}, "_goneAt")
# StartRecommender / StopRecommender: two steps each.
RECOMMENDER_START_STOP = Timed({STOP_PENDING: STOP_IN_PROGRESS, STOP_IN_PROGRESS: INACTIVE,
                                START_PENDING: START_IN_PROGRESS, START_IN_PROGRESS: ACTIVE},
                               "_stepAt", restamp=True)


# -- by work ------------------------------------------------------------------------------
def failure_text(error: BaseException) -> str:
    """A job's failureReason: the service error's message, else the exception's type and
    text; at most 1000 characters."""
    return (getattr(error, "message", None) or f"{type(error).__name__}: {error}")[:1000]


@dataclass(frozen=True)
class Work:
    """pending -> running -> done | failed, moved by a worker. `resumes`: a running record
    may be started again (its work is resumed after a restart). `stopping` -> `stopped`:
    a stop request, which the end of the work turns into `stopped`."""
    pending: str = CREATE_PENDING
    running: str = CREATE_IN_PROGRESS
    done: str = ACTIVE
    failed: str = CREATE_FAILED
    resumes: bool = False
    stopping: str | None = None
    stopped: str | None = None

    @property
    def unfinished(self) -> tuple[str, ...]:
        return tuple(s for s in (self.pending, self.running, self.stopping) if s)

    @property
    def finished(self) -> tuple[str, ...]:
        return tuple(s for s in (self.done, self.failed, self.stopped) if s)

    def start(self, registry, kind, arn: str) -> dict:
        """Mark the record running; the caller works only if it is running afterwards."""
        startable = (self.pending, self.running) if self.resumes else (self.pending,)

        def start(doc):
            if doc["status"] in startable:
                doc["status"] = self.running
        return registry.update(kind, arn, start)

    def finish(self, registry, kind, arn: str, status: str, failure: str | None = None,
               **fields) -> dict | None:
        """Record the end (`status` is done or failed, with `fields`); a finished record
        keeps its end, and a stop request ends as stopped. None if the record is gone."""
        def finish(doc):
            if doc["status"] in self.finished:
                return
            final = self.stopped if self.stopping and doc["status"] == self.stopping \
                else status
            doc["status"] = final
            if final == self.failed:
                doc["failureReason"] = failure
            doc.update(fields)
        try:
            return registry.update(kind, arn, finish)
        except ResourceNotFoundException:
            return None

    def run(self, registry, kind, arn: str, work: Callable[[dict], dict | None],
            reason: Callable[[BaseException], str] = failure_text,
            expected: tuple[type, ...] = (ServiceError, ValueError, KeyError)) -> None:
        """Start, do `work(record)` (it returns fields to record), finish done; any error
        finishes it failed with `reason(error)`, so a record never stays running. Errors
        other than `expected` are logged with their trace."""
        record = self.start(registry, kind, arn)
        if record["status"] != self.running:
            return
        try:
            fields = work(record) or {}
        except Exception as error:
            if not isinstance(error, expected):
                log.exception("%s %s crashed", kind.label, arn)
            self.finish(registry, kind, arn, self.failed, reason(error))
            return
        self.finish(registry, kind, arn, self.done, **fields)


# Created ACTIVE: nothing to wait for (schemas).
SYNCHRONOUS = Timed({}, "_settleAt")

JOB = Work()   # batch inference and segment jobs, dataset exports
# Data deletion jobs have their own vocabulary in AWS's API.
DATA_DELETION = Work("PENDING", "IN_PROGRESS", "COMPLETED", "FAILED")
DATASET_IMPORT = Work(resumes=True)   # a restart resubmits unfinished imports
TRAINING = Work(resumes=True, stopping=CREATE_STOPPING, stopped=CREATE_STOPPED)
