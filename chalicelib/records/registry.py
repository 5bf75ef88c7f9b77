"""Resource records over the store, shared by every resource family: create, read (with
each kind's lifecycle applied on the way: chalicelib/records/lifecycle.py), change, list.

Every reader and writer of records goes through a Registry, never the raw store, so a
record is always seen with its status brought up to date.

AWS's own samples take the next step on a parent the moment it is created (create_dataset
then create_dataset_import_job), so a step accepts a parent that is still settling
(`get_usable`) and its background work waits for the parent (`wait_active`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from chalicelib.errors import (ResourceAlreadyExistsException, ResourceInUseException,
                               ResourceNotFoundException)
from chalicelib.records.arns import make_arn
from chalicelib.records.lifecycle import (  # noqa: F401  (statuses: the record core's)
    ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING, CREATE_STOPPED,
    CREATE_STOPPING, DELETE_PENDING, DELETION, SETTLING, UPDATE_IN_PROGRESS, UPDATE_PENDING,
    Timed, Work)
from chalicelib.storage.base import AlreadyExists, ResourceStore


@dataclass(frozen=True)
class Kind:
    arn_type: str      # the ARN's resource type: 'dataset-group'
    label: str         # for messages: 'Dataset group'
    arn_field: str     # the ARN's member name in shapes: 'datasetGroupArn'
    store_kind: str = ""  # where records are kept, when the ARN type is shared (versions)
    # How its records move (declared per kind in chalicelib/records/kinds.py).
    lifecycle: Timed | Work = field(default=SETTLING, compare=False)

    @property
    def key(self) -> str:
        return self.store_kind or self.arn_type


class Registry:
    def __init__(self, store: ResourceStore, settle_seconds: float,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.settle_seconds = settle_seconds
        self.clock = clock

    # -- create ---------------------------------------------------------------------
    def create(self, kind: Kind, arn_prefix: str, name: str, doc: dict, *,
               status: str | None = None, tags: list | None = None,
               arn_name: str | None = None) -> dict:
        """Store a new record named `name` (its ARN ends in `arn_name`, by default the
        name) in its lifecycle's first status (or `status`: records made ready-made);
        ResourceAlreadyExistsException if that ARN is taken."""
        arn = make_arn(arn_prefix, kind.arn_type, arn_name or name)
        now = self.clock()
        lifecycle = kind.lifecycle
        first = lifecycle.pending if isinstance(lifecycle, Work) else \
            CREATE_PENDING if lifecycle.steps else ACTIVE
        record = {"name": name, kind.arn_field: arn, "status": status or first,
                  "creationDateTime": now, "lastUpdatedDateTime": now, **doc}
        if lifecycle is SETTLING and status is None:
            SETTLING.begin(record, record["status"], now, self.settle_seconds)
        if tags:
            record["_tags"] = tags
        for attempt in range(2):
            try:
                self.store.create(kind.key, arn, record)
                return record
            except AlreadyExists:
                if attempt == 0 and self.find(kind, arn) is None:
                    continue  # the old one had finished deleting: the name is free again
                raise ResourceAlreadyExistsException(
                    f"{kind.label} with name {name} already exists: {arn}") from None
        raise AssertionError("unreachable")

    # -- read -----------------------------------------------------------------------
    def find(self, kind: Kind, arn: str) -> dict | None:
        doc = self.store.get(kind.key, arn)
        return None if doc is None else self._settled(kind, arn, doc)

    def get(self, kind: Kind, arn: str) -> dict:
        doc = self.find(kind, arn)
        if doc is None:
            raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
        return doc

    def get_active(self, kind: Kind, arn: str) -> dict:
        doc = self.get(kind, arn)
        if doc["status"] != ACTIVE:
            raise ResourceInUseException(
                f"{kind.label} {arn} is not in ACTIVE state (it is {doc['status']}).")
        return doc

    def get_usable(self, kind: Kind, arn: str) -> dict:
        """get_active, but a record still settling to ACTIVE by itself passes too: the
        step that names it is accepted and its work waits (`wait_active`)."""
        doc = self.get(kind, arn)
        if doc["status"] != ACTIVE and not self._will_settle(doc):
            raise ResourceInUseException(
                f"{kind.label} {arn} is not in ACTIVE state (it is {doc['status']}).")
        return doc

    def wait_active(self, kind: Kind, arn: str) -> dict:
        """The record once it is ACTIVE, sleeping while it settles; ResourceNotFound /
        ResourceInUse when it is gone or will not become ACTIVE by itself."""
        while True:
            doc = self.get_usable(kind, arn)
            if doc["status"] == ACTIVE:
                return doc
            time.sleep(min(1.0, max(0.01, doc["_settleAt"] - self.clock())))

    @staticmethod
    def _will_settle(doc: dict) -> bool:
        return doc["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS) and "_settleAt" in doc

    def list(self, kind: Kind, arn_prefix: str,
             where: Callable[[dict], bool] | None = None) -> list[dict]:
        """One account's records of a kind (`arn_prefix`: 'arn:aws:personalize:<region>:
        <account>')."""
        return self._listed(kind, self.store.list(kind.key, arn_prefix + ":"), where)

    def list_all(self, kind: Kind, where: Callable[[dict], bool] | None = None) -> list[dict]:
        """Every account's records of a kind: for the process's own housekeeping (resuming
        work after a restart, automatic updates), never for an API answer."""
        return self._listed(kind, self.store.list(kind.key), where)

    def _listed(self, kind: Kind, found, where) -> list[dict]:
        docs = []
        for doc in found:
            doc = self._settled(kind, doc[kind.arn_field], doc)
            if doc is not None and (where is None or where(doc)):
                docs.append(doc)
        return docs

    def _settled(self, kind: Kind, arn: str, doc: dict) -> dict | None:
        """The record with the time-driven steps that are due taken (deleted: gone)."""
        now = self.clock()
        if DELETION.due(doc, now, default=now):
            self.store.delete(kind.key, arn)
            return None
        if SETTLING.due(doc, now):
            return self.store.update(
                kind.key, arn, lambda current: SETTLING.advance(current, now,
                                                                self.settle_seconds))
        return doc

    # -- change ---------------------------------------------------------------------
    def update(self, kind: Kind, arn: str, change: Callable[[dict], None], *,
               stamp: bool = True) -> dict:
        """Apply `change` (mutating the doc) atomically; stamps lastUpdatedDateTime unless
        `stamp` is false (bookkeeping a client does not see as an update)."""
        def apply(doc):
            change(doc)
            if stamp:
                doc["lastUpdatedDateTime"] = self.clock()
            return doc
        doc = self.store.update(kind.key, arn, apply)
        if doc is None:
            raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
        return doc

    def settle_later(self, doc: dict, status: str) -> None:
        """Put a record into a transient status that settles to ACTIVE by itself."""
        SETTLING.begin(doc, status, self.clock(), self.settle_seconds)

    def begin(self, doc: dict, steps: Timed, status: str) -> None:
        """Put a record into a transient status of `steps` (inside an update)."""
        steps.begin(doc, status, self.clock(), self.settle_seconds)

    def delete(self, kind: Kind, arn: str) -> None:
        """Asynchronous delete: DELETE PENDING now, gone `settle_seconds` later."""
        self.update(kind, arn, lambda doc: self.begin(doc, DELETION, DELETE_PENDING))

    def remove(self, kind: Kind, arn: str) -> None:
        """Synchronous delete: gone now (kinds AWS deletes at once, like schemas)."""
        self.store.delete(kind.key, arn)
