"""Resource records and their lifecycle, shared by every resource family.

Statuses are AWS's: CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE (or CREATE FAILED),
DELETE PENDING -> gone. Resources with no real work behind them (dataset groups, datasets,
filters, ...) settle to ACTIVE `settle_seconds` after creation, and deleted ones vanish
as long after deletion. Settling happens when a record is read, so it needs no
background thread, works the same in Lambda, and survives restarts. Kinds that AWS
creates synchronously (`Kind.synchronous`: schemas, solutions) are ACTIVE at once.

AWS's own samples take the next step on a parent the moment it is created (create_dataset
then create_dataset_import_job), so a step accepts a parent that is still settling
(`get_usable`) and its background work waits for the parent (`wait_active`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from chalicelib.errors import (ResourceAlreadyExistsException, ResourceInUseException,
                               ResourceNotFoundException)
from chalicelib.storage.base import AlreadyExists, ResourceStore
from chalicelib.resources.arns import make_arn

CREATE_PENDING, CREATE_IN_PROGRESS = "CREATE PENDING", "CREATE IN_PROGRESS"
ACTIVE, CREATE_FAILED = "ACTIVE", "CREATE FAILED"
CREATE_STOPPING, CREATE_STOPPED = "CREATE STOPPING", "CREATE STOPPED"
DELETE_PENDING = "DELETE PENDING"
UPDATE_PENDING, UPDATE_IN_PROGRESS = "UPDATE PENDING", "UPDATE IN_PROGRESS"
_SETTLING = (CREATE_PENDING, CREATE_IN_PROGRESS, UPDATE_PENDING, UPDATE_IN_PROGRESS)


@dataclass(frozen=True)
class Kind:
    arn_type: str      # the ARN's resource type: 'dataset-group'
    label: str         # for messages: 'Dataset group'
    arn_field: str     # the ARN's member name in shapes: 'datasetGroupArn'
    store_kind: str = ""  # where records are kept, when the ARN type is shared (versions)
    synchronous: bool = False  # AWS creates it ACTIVE at once: no CREATE PENDING to settle

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
               settles: bool = True, status: str = CREATE_PENDING,
               tags: list | None = None, arn_name: str | None = None) -> dict:
        """Store a new record named `name` (its ARN ends in `arn_name`, by default the
        name); ResourceAlreadyExistsException if that ARN is taken."""
        arn = make_arn(arn_prefix, kind.arn_type, arn_name or name)
        now = self.clock()
        if kind.synchronous:
            settles, status = False, ACTIVE
        record = {"name": name, kind.arn_field: arn, "status": status,
                  "creationDateTime": now, "lastUpdatedDateTime": now, **doc}
        if settles:
            record["_settleAt"] = now + self.settle_seconds
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
        docs = []
        for doc in self.store.list(kind.key, arn_prefix + ":"):
            doc = self._settled(kind, doc[kind.arn_field], doc)
            if doc is not None and (where is None or where(doc)):
                docs.append(doc)
        return docs

    def _settled(self, kind: Kind, arn: str, doc: dict) -> dict | None:
        now = self.clock()
        if doc["status"] == DELETE_PENDING and now >= doc.get("_goneAt", now):
            self.store.delete(kind.key, arn)
            return None
        if doc["status"] in _SETTLING and now >= doc.get("_settleAt", float("inf")):
            def settle(current):
                if current["status"] not in _SETTLING or "_settleAt" not in current:
                    return None
                current["status"] = ACTIVE
                current["lastUpdatedDateTime"] = current.pop("_settleAt")
                return current
            return self.store.update(kind.key, arn, settle)
        return doc

    # -- change ---------------------------------------------------------------------
    def update(self, kind: Kind, arn: str, change: Callable[[dict], None]) -> dict:
        """Apply `change` (mutating the doc) atomically; stamps lastUpdatedDateTime."""
        def apply(doc):
            change(doc)
            doc["lastUpdatedDateTime"] = self.clock()
            return doc
        doc = self.store.update(kind.key, arn, apply)
        if doc is None:
            raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
        return doc

    def settle_later(self, doc: dict, status: str) -> None:
        """Put a record into a transient status that settles to ACTIVE by itself."""
        doc["status"] = status
        doc["_settleAt"] = self.clock() + self.settle_seconds

    def delete(self, kind: Kind, arn: str) -> None:
        """Asynchronous delete: DELETE PENDING now, gone `settle_seconds` later."""
        def mark(doc):
            doc["status"] = DELETE_PENDING
            doc["_goneAt"] = self.clock() + self.settle_seconds
        self.update(kind, arn, mark)

    def is_live(self, doc: dict) -> bool:
        return doc["status"] != DELETE_PENDING
