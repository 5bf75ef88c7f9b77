"""What every family of control-plane operations shares."""
from __future__ import annotations

from typing import Callable

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.records.arns import arn_type
from chalicelib.records.pagination import page
from chalicelib.records.lifecycle import not_deleted
from chalicelib.records.registry import Kind, Registry

__all__ = ["OperationsBase", "not_deleted"]


class OperationsBase:
    """Mixins of PersonalizeProvider derive from this; `backend` wires the storage."""

    def __init__(self, backend):
        self.backend = backend
        self.registry: Registry = backend.registry

    def _list(self, kind: Kind, ctx, key: str, next_token: str | None,
              max_results: int | None, where: Callable[[dict], bool] | None = None) -> dict:
        docs = sorted(self.registry.list(kind, ctx.arn_prefix, where),
                      key=lambda d: d["creationDateTime"], reverse=True)
        chunk, token = page(docs, next_token, max_results)
        return {key: chunk, "nextToken": token}

    def _list_in(self, kind: Kind, ctx, key: str, next_token: str | None,
                 max_results: int | None, field: str, value: str | None, *,
                 skip_deleted: bool = False) -> dict:
        """`_list` of the records whose `field` is `value` (all of them when `value` is
        None, as when a List request leaves its parent ARN out); with `skip_deleted`, records
        being deleted are left out too."""
        def where(doc: dict) -> bool:
            return ((value is None or doc.get(field) == value)
                    and (not skip_deleted or not_deleted(doc)))
        return self._list(kind, ctx, key, next_token, max_results,
                          where if value is not None or skip_deleted else None)

    def _create_job(self, kind: Kind, ctx, name: str, doc: dict,
                    submit: Callable[[str], None], tags: list | None = None,
                    **create_options) -> dict:
        """Record a job that does not settle by itself (its background work moves it on),
        hand its ARN to `submit`, and answer with that ARN."""
        record = self.registry.create(kind, ctx.arn_prefix, name, doc, tags=tags,
                                      **create_options)
        submit(record[kind.arn_field])
        return {kind.arn_field: record[kind.arn_field]}

    def _parent(self, kind: Kind, arn: str) -> dict:
        """A resource the request names as its parent: InvalidInput if the ARN is of the
        wrong type, ResourceNotFound if it does not exist."""
        if arn_type(arn) != kind.arn_type:
            raise InvalidInputException(f"{arn} is not a valid {kind.label.lower()} ARN.")
        doc = self.registry.find(kind, arn)
        if doc is None or not not_deleted(doc):
            raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
        return doc
