"""Item and user metadata for serving: what filters, metadataColumns and CurrentUser read.

An `ItemCatalog` is built once per deployed model: the dataset group's Items data (imported
tables + PutItems records) aligned with the model's item order, wrapped in a filters
`CatalogIndex` whose posting lists and leaf masks are then reused by every request.
PutItems records that arrive later go into a small overlay (item id -> latest record) that
is patched into each mask, so new metadata is visible on the next request without
rebuilding a million-row index; the base is rebuilt only when the overlay grows large.
"""
from __future__ import annotations

import math
import threading
from itertools import repeat
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from chalicelib.datasets import changes
from chalicelib.datasets.reader import (dataset_schema, group_datasets, read_dataset,
                                        schema_fields)
from chalicelib.datasets.schema import Field
from chalicelib.filters import CatalogIndex, FilterContext
from chalicelib.filters.masks import number_text
from chalicelib.serving.heap import settle_long_lived

OVERLAY_REBUILD_ROWS = 20_000   # past this many changed items, rebuild the base index


def dataset_columns(backend, dataset: dict | None) -> dict[str, np.ndarray]:
    """A dataset's columns as the reader gives them (imports + records); empty when the
    group has no such dataset or it has no data."""
    table = None if dataset is None else read_dataset(backend, dataset)
    return {} if table is None else dict(table.columns)


def cell_text(value) -> str | None:
    """A metadata value as the response carries it (strings), None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return number_text(value)
    return str(value)


def _column(values: list, numeric: bool) -> np.ndarray:
    if numeric:
        return np.array([math.nan if cell_text(v) is None else float(v) for v in values],
                        dtype=np.float64)
    return np.array(values, dtype=object)


class ItemCatalog:
    """The Items data of one deployed model. `fields`: FIELD -> Field of the schema."""

    def __init__(self, item_ids: list[str], table: Mapping[str, np.ndarray],
                 fields: Mapping[str, Field], positions: Mapping[str, int] | None = None):
        # positions: the model's own item id -> row map (row = place in item_ids), shared
        # instead of a second catalogue-long dict (10M ids: about a gigabyte each)
        self.item_ids = item_ids
        self._positions = positions if positions is not None and \
            len(positions) == len(item_ids) else None
        self.fields = dict(fields)
        self._lock = threading.Lock()
        self._overlay: dict[str, dict] = {}
        self._overlay_index: tuple[CatalogIndex, np.ndarray] | None = None
        self._build(table)

    def _numeric(self, name: str, column: np.ndarray | None = None) -> bool:
        field = self.fields.get(name)
        if field is not None:
            return field.numeric
        return column is not None and column.dtype.kind in "iuf"

    def _build(self, table: Mapping[str, np.ndarray]) -> None:
        ids = table.get("ITEM_ID")
        self._table = {k: np.asarray(v) for k, v in table.items()}
        n = len(self.item_ids)
        listed = [] if ids is None else [str(i) for i in ids.tolist()]
        if self._positions is not None and listed == self.item_ids:
            # the Items rows in the model's order (a catalogue imported whole, then
            # trained on): row n of the table is row n of the model
            self._rows, where = self._positions, np.arange(n)
        else:
            self._rows = dict(zip(listed, range(len(listed))))
            where = np.fromiter(map(self._rows.get, self.item_ids, repeat(-1, n)), np.int64, n)
        self._table_size = len(listed)
        known = where >= 0
        columns = {}
        for name, column in self._table.items():
            if name == "ITEM_ID":
                continue
            if self._numeric(name, column):
                source = column[where[known]]
                out = np.full(n, math.nan)
                out[known] = (source if source.dtype.kind in "iuf"
                              else _column(source.tolist(), True))
            else:
                out = np.full(n, None, dtype=object)
                out[known] = column[where[known]]
            columns[name] = out
        self.index = CatalogIndex(self.item_ids, columns, positions=self._positions)

    # -- live records ---------------------------------------------------------------------
    def apply(self, rows: Iterable[dict]) -> None:
        """PutItems records: each replaces its item's metadata (AWS replaces the record)."""
        with self._lock:
            for row in rows:
                self._overlay[str(row["ITEM_ID"])] = dict(row)
            self._overlay_index = None
            if len(self._overlay) > OVERLAY_REBUILD_ROWS:
                self._rebuild()

    def _rebuild(self) -> None:
        names = set(self._table) | {k for row in self._overlay.values() for k in row}
        ids = list(self._table.get("ITEM_ID", np.array([], dtype=object)).tolist())
        rows = {i: n for n, i in enumerate(ids)}
        merged = {name: list(self._table.get(name, [None] * len(ids))) for name in names}
        for item_id, record in self._overlay.items():
            at = rows.get(item_id)
            if at is None:
                at = rows[item_id] = len(ids)
                ids.append(item_id)
                for name in names:
                    merged[name].append(None)
            for name in names:
                merged[name][at] = record.get(name)
        merged["ITEM_ID"] = ids
        self._build({k: _column(v, self._numeric(k) and k != "ITEM_ID")
                     for k, v in merged.items()})
        self._overlay = {}

    # -- reads ----------------------------------------------------------------------------
    def metadata(self, item_id: str) -> dict | None:
        """The item's current fields (overlay first), or None when the data has no row."""
        record = self._overlay.get(item_id)
        if record is not None:
            return record
        row = self._rows.get(item_id)
        if row is None or row >= self._table_size:   # a shared map may know newer items
            return None
        return {name: column[row] for name, column in self._table.items()}

    def position(self, item_id: str) -> int | None:
        return self.index.position(item_id)

    def small_index(self, item_ids: list[str]) -> CatalogIndex:
        """A throwaway index over a few items with their current metadata (rankings, the
        overlay)."""
        records = [self.metadata(i) or {} for i in item_ids]
        names = {k for r in records for k in r if k != "ITEM_ID"}
        columns = {name: _column([r.get(name) for r in records], self._numeric(name))
                   for name in names}
        return CatalogIndex(item_ids, columns, mask_cache_size=0)

    def mask(self, flt, values: Mapping[str, str], **context) -> np.ndarray:
        """The filter over the model's items: base index, then the overlay's rows patched
        with their new metadata."""
        result = flt.mask(FilterContext(self.index, **context), values)
        with self._lock:
            overlay = self._overlay_index
            if overlay is None and self._overlay:
                ids = [i for i in self._overlay if self.index.position(i) is not None]
                positions = np.array([self.index.position(i) for i in ids], dtype=np.int64)
                overlay = self._overlay_index = (self.small_index(ids), positions)
        if overlay is not None and len(overlay[1]):
            result[overlay[1]] = flt.mask(FilterContext(overlay[0], **context), values)
        return result

    def item_metadata(self, item_id: str, columns: list[str]) -> dict[str, str]:
        """metadataColumns for one item: lower-case keys, string values, missing omitted."""
        record = self.metadata(item_id) or {}
        out = {}
        for name in columns:
            text = cell_text(record.get(name.upper()))
            if text is not None:
                out[name.lower()] = text
        return out


class UserDirectory:
    """Users data of a dataset group by user id, for CurrentUser conditions."""

    def __init__(self, table: Mapping[str, np.ndarray]):
        ids = table.get("USER_ID")
        self._table = dict(table)
        self._rows = {} if ids is None else {str(u): n for n, u in enumerate(ids.tolist())}
        self._overlay: dict[str, dict] = {}

    def apply(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self._overlay[str(row["USER_ID"])] = dict(row)

    def metadata(self, user_id: str | None) -> dict:
        if not user_id:
            return {}
        record = self._overlay.get(user_id)
        if record is not None:
            return record
        row = self._rows.get(user_id)
        if row is None:
            return {}
        return {name: column[row] for name, column in self._table.items()}


class InteractionTypes:
    """user -> item -> event types, from the imported Interactions data (live events are
    read per request): what `Interactions.EVENT_TYPE` conditions test."""

    def __init__(self, table: Mapping[str, np.ndarray]):
        self._by_user: dict[str, dict[str, set]] = {}
        users, items = table.get("USER_ID"), table.get("ITEM_ID")
        if users is None or items is None:
            return
        types = table.get("EVENT_TYPE")
        types = [""] * len(users) if types is None else types.tolist()
        for user, item, event_type in zip(users.tolist(), items.tolist(), types):
            self._by_user.setdefault(str(user), {}).setdefault(str(item), set()).add(
                "" if event_type is None else str(event_type))

    def for_user(self, user_id: str | None, live: Iterable[dict]) -> dict[str, set]:
        out = {item: set(t) for item, t in self._by_user.get(user_id or "", {}).items()}
        for event in live:
            item = event.get("ITEM_ID")
            if item:
                out.setdefault(str(item), set()).add(str(event.get("EVENT_TYPE") or ""))
        return out


class CatalogCache:
    """Catalogs per deployed model, users and interactions per dataset group; kept current
    by the in-process change feed (PutItems / PutUsers)."""

    def __init__(self, backend):
        self.backend = backend
        self._items: dict[tuple, tuple[str, ItemCatalog]] = {}
        self._users: dict[str, UserDirectory] = {}
        self._interactions: dict[str, InteractionTypes] = {}
        self._lock = threading.Lock()
        changes.subscribe(self.on_records)

    def _datasets(self, group: str) -> dict[str, dict]:
        return group_datasets(self.backend.registry, group)

    def _fields(self, dataset: dict) -> dict[str, Field]:
        return schema_fields(dataset_schema(self.backend.registry, dataset))

    def _cached(self, cache: dict, key, build: Callable[[], Any]):
        """cache[key], built once under the lock when missing (reads take no lock)."""
        found = cache.get(key)
        if found is None:
            with self._lock:
                found = cache.get(key)
                if found is None:
                    found = cache[key] = build()
                    settle_long_lived()
        return found

    def items(self, key: tuple, group: str, item_ids: list[str],
              positions: Mapping[str, int] | None = None) -> ItemCatalog:
        """key: (solution version arn, revision): a new model revision gets a new catalog.
        positions: the model's item id -> row map, when it has one (shared, not copied)."""
        def build():
            dataset = self._datasets(group).get("Items")
            fields = {} if dataset is None else self._fields(dataset)
            for old in [k for k in self._items if k[0] == key[0]]:
                del self._items[old]   # an older revision of the same version
            return (group, ItemCatalog(item_ids, dataset_columns(self.backend, dataset),
                                       fields, positions))
        return self._cached(self._items, key, build)[1]

    def users(self, group: str) -> UserDirectory:
        def build():
            return UserDirectory(dataset_columns(self.backend,
                                                 self._datasets(group).get("Users")))
        return self._cached(self._users, group, build)

    def interactions(self, group: str) -> InteractionTypes:
        def build():
            return InteractionTypes(dataset_columns(
                self.backend, self._datasets(group).get("Interactions")))
        return self._cached(self._interactions, group, build)

    def on_records(self, group: str, dataset_type: str, rows: list[dict]) -> None:
        if dataset_type == "Items":
            for owner, catalog in list(self._items.values()):
                if owner == group:
                    catalog.apply(rows)
        elif dataset_type == "Users":
            directory = self._users.get(group)
            if directory is not None:
                directory.apply(rows)
