"""The storage interface the control plane, events and serving are written against."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Iterable

Doc = dict


class AlreadyExists(Exception):
    """create() found the key taken: exactly one concurrent creator wins."""


class ResourceStore(ABC):
    """Resource records (JSON documents) keyed by ARN, grouped by kind."""

    @abstractmethod
    def create(self, kind: str, arn: str, doc: Doc) -> None: ...

    @abstractmethod
    def get(self, kind: str, arn: str) -> Doc | None: ...

    @abstractmethod
    def put(self, kind: str, arn: str, doc: Doc) -> None: ...

    @abstractmethod
    def update(self, kind: str, arn: str, change: Callable[[Doc], Doc | None]) -> Doc | None:
        """Atomic read-modify-write; `change` gets the current doc and returns the new one
        (or None to leave it). Returns the stored doc, or None when absent."""

    @abstractmethod
    def delete(self, kind: str, arn: str) -> None: ...

    @abstractmethod
    def list(self, kind: str, arn_prefix: str = "") -> list[Doc]:
        """Docs of a kind whose ARN starts with the prefix, oldest first."""


class EventStore(ABC):
    """Live data sent through personalize-events, kept durably before the call returns."""

    @abstractmethod
    def append_events(self, dataset_group_arn: str, rows: Iterable[Doc]) -> int:
        """Append interaction rows (USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, ...); returns
        the sequence number of the last one."""

    def append_user_events(self, dataset_group_arn: str, rows: Iterable[Doc],
                           session_id: str, user_id: str) -> int:
        """PutEvents with a userId: append the rows, and the session's earlier anonymous
        events become the user's. A store that can do both in one write overrides this."""
        last = self.append_events(dataset_group_arn, rows)
        self.relabel_session(dataset_group_arn, session_id, user_id)
        return last

    @abstractmethod
    def user_events(self, dataset_group_arn: str, user_id: str, after_seq: int = 0,
                    limit: int = 500) -> list[Doc]:
        """A user's events after a sequence number, oldest first (the newest `limit`)."""

    @abstractmethod
    def events(self, dataset_group_arn: str, after_seq: int = 0) -> list[Doc]: ...

    @abstractmethod
    def last_seq(self, dataset_group_arn: str) -> int: ...

    @abstractmethod
    def relabel_session(self, dataset_group_arn: str, session_id: str, user_id: str) -> None:
        """Anonymous events of a session become the user's once the user is known."""

    @abstractmethod
    def upsert_records(self, dataset_arn: str, id_field: str, rows: Iterable[Doc]) -> None:
        """PutItems / PutUsers / PutActions: the latest record per id wins."""

    @abstractmethod
    def records(self, dataset_arn: str) -> list[Doc]: ...

    @abstractmethod
    def delete_dataset_group_data(self, dataset_group_arn: str) -> None: ...

    def delete_user_data(self, dataset_group_arn: str, user_ids: set[str],
                         dataset_arns: Iterable[str] = ()) -> int:
        """Data deletion jobs: remove the users' events (interactions and action
        interactions share the group's key prefix) and their records in the given datasets
        (PutUsers). Returns how many rows went."""
        raise NotImplementedError
