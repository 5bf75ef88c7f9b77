"""Evaluating a parsed filter into a boolean mask over a catalogue, with numpy.

A `CatalogIndex` is built once per catalogue (a model's items, or the users table for user
segments) and lazily indexes each column the first time a filter reads it:

* string/categorical columns get posting lists (value -> sorted row numbers, one flat CSR
  array per column), so `IN (...)` costs a few slice writes proportional to the matching
  rows; a categorical cell 'a|b' is posted under both 'a' and 'b' (IN matches any);
* numerical comparisons read a float64 copy of the column (NaN where missing).

Leaf masks that depend only on the catalogue and the request's filter values are kept in a
small LRU cache on the index, so the same filter with the same values is a copy plus a few
logical ops. Conditions that read the user's interactions touch only that user's history.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from chalicelib.errors import InvalidInputException
from chalicelib.filters.nodes import (
    ACTION_INTERACTIONS, EXCLUDE, IN, INCLUDE, INTERACTIONS, NOT_IN, AND,
    Condition, Expression, FieldRef, Filter, Junction, Literal, Node, Param,
)

MULTI_VALUE_SEPARATOR = "|"
MAX_FILTER_VALUES = 25            # GetRecommendations filterValues: at most 25 entries
MAX_FILTER_VALUE_LENGTH = 1000    # ... each value at most 1000 characters
WILDCARD = "*"


# -- catalogue ---------------------------------------------------------------------------------
class _Postings:
    """value -> row numbers, stored as one sorted array and offsets (CSR)."""
    __slots__ = ("codes", "rows", "offsets")

    def __init__(self, codes: dict[str, int], rows: np.ndarray, offsets: np.ndarray):
        self.codes, self.rows, self.offsets = codes, rows, offsets

    def rows_for(self, value: str) -> np.ndarray:
        code = self.codes.get(value)
        if code is None:
            return self.rows[:0]
        return self.rows[self.offsets[code]:self.offsets[code + 1]]


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def number_text(value) -> str:
    """Canonical text of a number, so 2000, 2000.0 and "2000" match each other."""
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e18 else repr(number)


def _to_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def split_values(value) -> list[str]:
    """The values of one cell: categorical cells may hold several, separated by '|'."""
    if _is_missing(value):
        return []
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return [number_text(value)]
    return [part for part in str(value).split(MULTI_VALUE_SEPARATOR) if part != ""]


class CatalogIndex:
    """Rows to filter (items, or users for segments) with their metadata columns.

    `columns` maps field name -> array aligned with `ids`; names are upper-cased. The id
    column (ITEM_ID / USER_ID) is added from `ids` when absent, so filters on it work."""

    def __init__(self, ids: Sequence[str], columns: Mapping[str, np.ndarray] | None = None,
                 id_field: str = "ITEM_ID", mask_cache_size: int = 64,
                 positions: Mapping[str, int] | None = None):
        # positions: an id -> place in `ids` map the caller already holds (shared)
        self.ids = np.asarray(ids, dtype=object)
        self.size = len(self.ids)
        self.columns: dict[str, np.ndarray] = {}
        for name, column in (columns or {}).items():
            column = np.asarray(column)
            if len(column) != self.size:
                raise ValueError(f"column {name} has {len(column)} rows, expected {self.size}")
            self.columns[name.upper()] = column
        self.columns.setdefault(id_field.upper(), self.ids)
        self._positions: Mapping[str, int] | None = positions
        self._postings: dict[str, _Postings] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._masks: OrderedDict = OrderedDict()
        self._mask_cache_size = mask_cache_size
        self._lock = threading.Lock()

    def position(self, entity_id: str) -> int | None:
        if self._positions is None:
            self._positions = {str(i): n for n, i in enumerate(self.ids)}
        found = self._positions.get(str(entity_id))
        return found if found is None or found < self.size else None

    def is_numeric(self, name: str) -> bool:
        column = self.columns.get(name)
        return column is not None and column.dtype.kind in "iuf"

    def postings(self, name: str) -> _Postings | None:
        postings = self._postings.get(name)
        if postings is None and name in self.columns:
            postings = self._postings[name] = self._build_postings(self.columns[name])
        return postings

    def numbers(self, name: str) -> np.ndarray | None:
        numbers = self._numbers.get(name)
        if numbers is None and name in self.columns:
            column = self.columns[name]
            if column.dtype.kind in "iuf":
                numbers = column.astype(np.float64)
            else:
                numbers = np.fromiter((_to_float(v) for v in column), np.float64, self.size)
            numbers.setflags(write=False)
            self._numbers[name] = numbers
        return numbers

    def cell_values(self, name: str, row: int) -> list[str]:
        column = self.columns.get(name)
        return [] if column is None else split_values(column[row])

    def rows_matching(self, name: str, values: Iterable[str]) -> np.ndarray:
        """Boolean mask of rows whose cell holds any of `values`."""
        mask = np.zeros(self.size, dtype=bool)
        postings = self.postings(name)
        if postings is None:
            return mask
        numeric = self.is_numeric(name)
        for value in values:
            if numeric:
                number = _to_float(value)
                if math.isnan(number):
                    continue
                value = number_text(number)
            mask[postings.rows_for(value)] = True
        return mask

    def cached_mask(self, key, build) -> np.ndarray:
        """A read-only leaf mask from the LRU cache, built with `build()` on a miss."""
        with self._lock:
            mask = self._masks.get(key)
            if mask is not None:
                self._masks.move_to_end(key)
                return mask
        mask = build()
        mask.setflags(write=False)
        with self._lock:
            self._masks[key] = mask
            while len(self._masks) > self._mask_cache_size:
                self._masks.popitem(last=False)
        return mask

    def _build_postings(self, column: np.ndarray) -> _Postings:
        codes: dict[str, int] = {}
        row_list: list[int] = []
        code_list: list[int] = []
        numeric = column.dtype.kind in "iuf"
        for row, cell in enumerate(column.tolist()):
            # Fast path for the common single-valued string cell; the rest goes through
            # split_values (numbers, missing values, 'a|b' multi-values).
            if type(cell) is str and MULTI_VALUE_SEPARATOR not in cell and cell:
                values = (cell,)
            elif numeric:
                values = () if math.isnan(float(cell)) else (number_text(cell),)
            else:
                values = split_values(cell)
            for value in values:
                row_list.append(row)
                code_list.append(codes.setdefault(value, len(codes)))
        rows = np.asarray(row_list, dtype=np.int64)
        value_codes = np.asarray(code_list, dtype=np.int64)
        order = np.argsort(value_codes, kind="stable")   # stable: rows stay sorted per value
        offsets = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(value_codes, minlength=len(codes)), out=offsets[1:])
        return _Postings(codes, rows[order], offsets)


@dataclass
class FilterContext:
    """What one request knows when a filter is applied.

    catalog: the rows being filtered (a model's items; the users table for user segments).
    user: the current user's metadata (field -> value), for IF CurrentUser conditions.
    interactions: entity id -> event types. For item filters, the current user's items and
        the event types they had; for user-segment filters, each user's event types.
    current_item: the item of a related-items request, for CurrentItem.X values.
    current_item_metadata: the current item's fields when it is not in the catalogue.
    """
    catalog: CatalogIndex
    user: Mapping[str, object] | None = None
    interactions: Mapping[str, Iterable[str]] | None = None
    current_item: str | None = None
    current_item_metadata: Mapping[str, object] | None = None

    @property
    def item_ids(self) -> np.ndarray:
        return self.catalog.ids

    @classmethod
    def build(cls, item_ids: Sequence[str], columns: Mapping[str, np.ndarray] | None = None,
              **kwargs) -> "FilterContext":
        """A one-off context with its own (uncached) CatalogIndex; servers should keep one
        CatalogIndex per catalogue and reuse it."""
        return cls(CatalogIndex(item_ids, columns), **kwargs)

    def evaluate(self, flt: Filter, values: Mapping[str, str]) -> np.ndarray:
        return evaluate(flt, self, values)


# -- filter values -----------------------------------------------------------------------------
def parse_filter_value(name: str, raw: str) -> list[str]:
    """A filterValues entry: comma-separated values, each in double quotes as AWS asks
    ('"comedy","drama"'); an unquoted value (e.g. a number, '18') is accepted as is."""
    values: list[str] = []
    i, n = 0, len(raw)
    while True:
        while i < n and raw[i].isspace():
            i += 1
        if i < n and raw[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(raw[i])
                i += 1
            if i >= n:
                raise InvalidInputException(
                    f"filterValues[{name}] has an unterminated quoted value: {raw}")
            i += 1
            values.append("".join(chars))
            while i < n and raw[i].isspace():
                i += 1
        else:
            end = raw.find(",", i)
            end = n if end < 0 else end
            token = raw[i:end].strip()
            if not token:
                raise InvalidInputException(
                    f"filterValues[{name}] must be one or more values separated by commas, "
                    f'each in double quotes (e.g. "\\"a\\",\\"b\\""); got: {raw!r}')
            values.append(token)
            i = end
        if i >= n:
            return values
        if raw[i] != ",":
            raise InvalidInputException(
                f"filterValues[{name}]: expected ',' between values at position {i}: {raw!r}")
        i += 1


def _check_values(values: Mapping[str, str]) -> None:
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInputException(
            f"filterValues has {len(values)} entries; the maximum is {MAX_FILTER_VALUES}.")
    for name, raw in values.items():
        if not isinstance(raw, str) or len(raw) > MAX_FILTER_VALUE_LENGTH:
            raise InvalidInputException(
                f"filterValues[{name}] must be a string of at most {MAX_FILTER_VALUE_LENGTH} "
                f"characters.")


# -- evaluation --------------------------------------------------------------------------------
def evaluate(flt: Filter, context: FilterContext, values: Mapping[str, str]) -> np.ndarray:
    """(union of INCLUDE expressions) minus (union of EXCLUDE expressions).

    An EXCLUDE expression with a placeholder missing from `values` is skipped (AWS: "you
    can omit the filter-values ... Amazon Personalize doesn't use that portion of the
    expression"); an INCLUDE one is an error. An expression whose IF condition is false for
    the current user does not apply. With no applicable INCLUDE, everything is included."""
    _check_values(values)
    # Only the filter's own placeholders are parsed: other keys are not this filter's business.
    parsed_values = {name: parse_filter_value(name, values[name])
                     for name in flt.placeholders if name in values}
    size = context.catalog.size
    included: np.ndarray | None = None
    excluded: np.ndarray | None = None
    for expression in flt.expressions:
        missing = [name for name in expression.placeholders() if name not in parsed_values]
        if missing:
            if expression.action == EXCLUDE:
                continue
            raise InvalidInputException(
                "Missing filterValues for placeholder(s) "
                + ", ".join(f"${name}" for name in missing)
                + ": an INCLUDE expression needs a value for every placeholder it uses.")
        evaluator = _Evaluator(context, parsed_values, expression)
        if expression.if_user is not None and not evaluator.user_condition(expression.if_user):
            continue
        matched = evaluator.node(expression.where)   # may be a cached array: never mutated
        if expression.action == INCLUDE:
            included = matched if included is None else (included | matched)
        else:
            excluded = matched if excluded is None else (excluded | matched)
    # A fresh array (callers patch it) in one pass where one suffices: at 10M items each
    # catalogue-long pass is about a millisecond of the request.
    if excluded is None:
        return np.ones(size, dtype=bool) if included is None else included.copy()
    return ~excluded if included is None else included & ~excluded


class _Evaluator:
    def __init__(self, context: FilterContext, values: dict[str, list[str]], expression: Expression):
        self.context = context
        self.catalog = context.catalog
        self.values = values
        self.expression = expression

    def node(self, node: Node) -> np.ndarray:
        if isinstance(node, Junction):
            parts = [self.node(part) for part in node.parts]
            out = parts[0].copy()
            for part in parts[1:]:
                if node.operator == AND:
                    out &= part
                else:
                    out |= part
            return out
        return self.condition(node)

    # -- operands ------------------------------------------------------------------------
    def operand_values(self, condition: Condition) -> list[str]:
        out: list[str] = []
        for operand in condition.operands:
            if isinstance(operand, Literal):
                out.append(operand.text)
            elif isinstance(operand, Param):
                out.extend(self.values[operand.name])
            else:
                out.extend(self.current_item_values(operand))
        return out

    def current_item_values(self, ref: FieldRef) -> list[str]:
        context = self.context
        if context.current_item is None and context.current_item_metadata is None:
            raise InvalidInputException(
                f"The filter uses {ref}, which needs the current item: give an itemId "
                f"(related-items recommendations).")
        row = None if context.current_item is None else self.catalog.position(context.current_item)
        if row is not None:
            return self.catalog.cell_values(ref.name, row)
        metadata = {k.upper(): v for k, v in (context.current_item_metadata or {}).items()}
        return split_values(metadata.get(ref.name))

    def comparison_number(self, condition: Condition) -> float:
        values = self.operand_values(condition)
        if not values and isinstance(condition.operands[0], FieldRef):
            return math.nan   # the current item has no value: nothing compares with it
        if len(values) != 1:
            raise InvalidInputException(
                f"{condition.field} {condition.operator} needs exactly one number, got "
                f"{len(values)} value(s).")
        number = _to_float(values[0])
        if math.isnan(number) and not isinstance(condition.operands[0], FieldRef):
            raise InvalidInputException(
                f"{condition.field} {condition.operator} needs a number, got {values[0]!r}.")
        return number

    # -- conditions ----------------------------------------------------------------------
    def condition(self, condition: Condition) -> np.ndarray:
        ref = condition.field
        if ref.dataset in (INTERACTIONS, ACTION_INTERACTIONS):
            return self.interaction_condition(condition)
        if condition.operator in (IN, NOT_IN):
            values = tuple(sorted(set(self.operand_values(condition))))
            key = (ref.name, IN, values)
            build = lambda: self.catalog.rows_matching(ref.name, values)  # noqa: E731
        else:
            number = self.comparison_number(condition)
            if math.isnan(number):   # NaN keys never hit a cache: answer directly
                return np.zeros(self.catalog.size, dtype=bool)
            key = (ref.name, condition.operator, number)
            build = lambda: _compare(self.catalog.numbers(ref.name), condition.operator,  # noqa: E731
                                     number, self.catalog.size)
        # The key holds the resolved values (CurrentItem's too), so cached masks stay exact.
        matched = self.catalog.cached_mask(key, build)
        return ~matched if condition.operator == NOT_IN else matched

    def interaction_condition(self, condition: Condition) -> np.ndarray:
        """Rows the user interacted with using a listed event type (case-insensitive; "*"
        is any). NOT IN: rows with an interaction whose event type is not listed."""
        wanted = {v.lower() for v in self.operand_values(condition)}
        any_type = WILDCARD in wanted
        negate = condition.operator == NOT_IN
        mask = np.zeros(self.catalog.size, dtype=bool)
        for entity_id, event_types in (self.context.interactions or {}).items():
            types = {str(t).lower() for t in event_types}
            if negate:
                hit = not any_type and bool(types - wanted)
            else:
                hit = bool(types) and (any_type or not types.isdisjoint(wanted))
            if hit:
                row = self.catalog.position(entity_id)
                if row is not None:
                    mask[row] = True
        return mask

    def user_condition(self, node: Node) -> bool:
        if isinstance(node, Junction):   # IF conditions are joined by AND only
            return all(self.user_condition(part) for part in node.parts)
        metadata = {k.upper(): v for k, v in (self.context.user or {}).items()}
        cell = metadata.get(node.field.name)
        if node.operator in (IN, NOT_IN):
            cell_values = set(split_values(cell))
            wanted = set(self.operand_values(node))
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                wanted = {number_text(v) if not math.isnan(_to_float(v)) else v for v in wanted}
            hit = not cell_values.isdisjoint(wanted)
            return hit if node.operator == IN else not hit
        number = self.comparison_number(node)
        value = _to_float(cell) if not _is_missing(cell) else math.nan
        return bool(_compare(np.array([value]), node.operator, number, 1)[0])


def _compare(numbers: np.ndarray | None, operator: str, number: float, size: int) -> np.ndarray:
    if numbers is None or math.isnan(number):
        return np.zeros(size, dtype=bool)
    if operator == "=":
        return numbers == number
    if operator == "!=":
        return (numbers != number) & ~np.isnan(numbers)
    if operator == "<":
        return numbers < number
    if operator == "<=":
        return numbers <= number
    if operator == ">":
        return numbers > number
    return numbers >= number
