"""Streaming CSV validation for dataset import jobs.

The header is matched to the schema ignoring case (extra columns, unnamed ones included,
are ignored, as AWS does),
every row is type-checked, and the rows are written to `sink` normalised: the header is
every schema field name upper-cased, in schema order, so all files of a dataset look alike
whatever the source column order was. One line is held at a time, so a 1 GB file costs
no more memory than a small one. The first problem stops the import with a DataImportError
naming the line and the column: that message becomes the job's failureReason.
"""
from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field as dataclass_field
from operator import itemgetter
from typing import Callable, Iterable, Iterator, TextIO

from chalicelib.datasets.schema import (CATEGORICAL, ID, TEXTUAL, TIMESTAMP, Field, Schema)
from chalicelib.errors import JobFailure

MAX_ID_LENGTH = 256             # USER_ID, ITEM_ID, ACTION_ID
MAX_CATEGORICAL_LENGTH = 1000   # AWS fails the import past this
MAX_TEXTUAL_LENGTH = 20_000     # AWS uses the first 20,000 characters of a textual field
MAX_EPOCH_SECONDS = 10**11      # year 5138: anything larger is milliseconds by mistake
MIN_INTERACTIONS, MIN_USERS_WITH_TWO = 1000, 25
_INT_RANGE = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1)}

# Room for long textual cells (and a clear error, not a crash, past it).
csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXTUAL_LENGTH))


class DataImportError(JobFailure):
    """Bad import data; str(error) is the failureReason a client sees."""


class InsufficientTrainingDataError(DataImportError):
    """Too little interaction data to train on (AWS checks this at training, not import)."""


@dataclass
class ImportSummary:
    rows: int
    columns: list[str]                                   # the normalised header written
    ignored_columns: list[str] = dataclass_field(default_factory=list)
    truncated_values: int = 0                            # textual cells cut to 20,000 chars


class _BadValue(ValueError):
    """Why one cell is rejected; the caller adds the line and column."""


def import_csv(lines: Iterable[bytes], schema: Schema, dataset_type: str,
               sink: TextIO) -> ImportSummary:
    """Validate `lines` (bytes or str, each ending in its newline) against `schema` and
    write the normalised CSV to `sink`. `dataset_type` only shapes messages today: the
    schema already carries what the dataset type requires."""
    reader = csv.reader(decoded_lines(lines), strict=True)
    header = _read_header(reader)
    plan, ignored = _column_plan(header, schema)
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(schema.names)
    write = writer.writerow
    width, rows, truncated = len(header), 0, [0]
    # A schema column absent from the file reads the "" appended at position `width`.
    pick = _picker([width if index is None else index for index, _ in plan])
    pad = any(index is None for index, _ in plan)
    # Only columns with something to check cost a Python call per row.
    checks = [(position, check) for position, (_, field) in enumerate(plan)
              if (check := _converter(field, truncated)) is not None]
    names = schema.names
    try:
        for row in reader:
            if len(row) != width:
                if not row:   # blank line
                    continue
                raise DataImportError(
                    f"Line {reader.line_num}: expected {width} values as in the header, found "
                    f"{len(row)}. Quote values that contain commas.")
            if pad:
                row.append("")
            values = pick(row)
            position = 0
            try:
                for position, check in checks:
                    values[position] = check(values[position])
            except _BadValue as bad:
                raise DataImportError(
                    f"Line {reader.line_num}, column {names[position]}: {bad}") from None
            write(values)
            rows += 1
    except csv.Error as error:
        raise DataImportError(f"Line {reader.line_num}: malformed CSV ({error}).") from None
    if rows == 0:
        raise DataImportError(
            f"The file has a header but no data rows; a {dataset_type} import needs at least "
            "one record.")
    return ImportSummary(rows, schema.names, ignored, truncated[0])


def _picker(indices: list[int]) -> Callable[[list[str]], list[str]]:
    """row -> the schema's columns in schema order, as a new list (itemgetter runs in C)."""
    if len(indices) == 1:
        only = indices[0]
        return lambda row: [row[only]]
    getter = itemgetter(*indices)
    return lambda row: list(getter(row))


def decoded_lines(lines: Iterable[bytes | str]) -> Iterator[str]:
    """UTF-8 text, line by line; a byte-order mark on the first line is dropped. A newline
    byte never occurs inside a multi-byte UTF-8 sequence, so lines decode independently."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, str):
            text = raw
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = raw[error.start:error.start + 1].hex()
                raise DataImportError(
                    f"Line {number} is not valid UTF-8 (byte 0x{bad} at position "
                    f"{error.start}); save the CSV file with UTF-8 encoding.") from None
        if number == 1:
            text = text.lstrip("\ufeff")
        yield text


def _read_header(reader) -> list[str]:
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)   # leading blank lines
    except csv.Error as error:
        raise DataImportError(f"The header row is malformed CSV ({error}).") from None
    if header is None:
        raise DataImportError("The file is empty: the first row must be a header row naming "
                              "the columns.")
    names = [h.strip().upper() for h in header]
    repeated = sorted(n for n, count in Counter(names).items() if count > 1 and n)
    if repeated:
        raise DataImportError(
            f"The header row names {', '.join(repeated)} more than once (column names are "
            "compared ignoring case).")
    return names


def _column_plan(header: list[str], schema: Schema):
    """(CSV position or None, field) per schema field, and the header columns not used."""
    position = {name: index for index, name in enumerate(header)}
    plan = []
    for field in schema.fields:
        index = position.get(field.name)
        if index is None and not field.nullable:
            raise DataImportError(
                f"The CSV header has no {field.name} column, which the schema requires "
                f"(header: {', '.join(header)}). The first row must be a header row whose "
                "names match the schema fields.")
        plan.append((index, field))
    used = {f.name for f in schema.fields}
    # A column with no name (pandas' to_csv() writes its index so) maps to no schema field:
    # ignored like any other extra column, and reported by its position.
    return plan, [name or f"(column {position}, unnamed)"
                  for position, name in enumerate(header, start=1) if name not in used]


def _converter(field: Field, truncated: list[int]) -> Callable[[str], str] | None:
    """A function from a raw cell to its normalised text, raising _BadValue; None when any
    value is acceptable as it is (a plain string column). Each is one call per cell, with
    the empty-cell case handled on the failure path, because this runs for every row."""
    kind, avro_type = field.kind, field.avro_type
    empty_ok = field.nullable or (avro_type == "string" and kind != ID)

    def empty_or(value: str, problem: str) -> str:
        if value == "":
            if empty_ok:
                return ""
            raise _BadValue("a value is required (the field is not nullable).")
        raise _BadValue(problem)

    if avro_type in ("int", "long"):
        low, high = _INT_RANGE[avro_type]
        if kind == TIMESTAMP:
            low, high = max(low, -MAX_EPOCH_SECONDS + 1), min(high, MAX_EPOCH_SECONDS - 1)

        def integer(value: str) -> str:
            try:
                number = int(value)
            except ValueError:
                number = None
            if number is None or "_" in value:
                if kind == TIMESTAMP:
                    return empty_or(value, f"{_show(value)} is not a Unix epoch time in whole "
                                           "seconds.")
                return empty_or(value, f"{_show(value)} is not a valid {avro_type}.")
            if not low <= number <= high:
                if kind == TIMESTAMP:
                    raise _BadValue(f"{_show(value)} looks like milliseconds; timestamps must "
                                    "be Unix epoch time in seconds.")
                raise _BadValue(f"{_show(value)} is out of range for {avro_type}.")
            return str(number)
        return integer
    if avro_type in ("float", "double"):
        limit = MAX_EPOCH_SECONDS if kind == TIMESTAMP else math.inf

        def decimal(value: str) -> str:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            # float() also takes 'nan', 'inf' and '1_0': none of them is a CSV number.
            if not -limit < number < limit or "_" in value:
                if kind == TIMESTAMP and math.isfinite(number) and "_" not in value:
                    raise _BadValue(f"{_show(value)} looks like milliseconds; timestamps must "
                                    "be Unix epoch time in seconds.")
                return empty_or(value, f"{_show(value)} is not a valid {avro_type}.")
            return value.strip()
        return decimal
    if avro_type == "boolean":
        def boolean(value: str) -> str:
            text = value.strip().lower()
            if text != "true" and text != "false":
                return empty_or(value, f"{_show(value)} is not a boolean (true or false).")
            return text
        return boolean
    if kind == ID:
        return _bounded(MAX_ID_LENGTH, "an id", empty_or)
    if kind == CATEGORICAL:
        return _bounded(MAX_CATEGORICAL_LENGTH, "a categorical value", empty_or)
    if kind == TEXTUAL:
        def textual(value: str) -> str:
            if len(value) > MAX_TEXTUAL_LENGTH:
                truncated[0] += 1
                return value[:MAX_TEXTUAL_LENGTH]
            return value
        return textual
    return None   # a plain string: "" is a string too, so nothing to check


def _bounded(limit: int, what: str, empty_or) -> Callable[[str], str]:
    def bounded(value: str) -> str:
        if not value or len(value) > limit:
            if value:
                raise _BadValue(f"{what} can have at most {limit} characters; this one has "
                                f"{len(value)}.")
            return empty_or(value, "")
        return value
    return bounded


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def check_training_minimums(interactions) -> None:
    """AWS trains only on at least 1000 interactions (bulk and streamed together) from at
    least 25 users with two or more interactions each. The trainer calls this once it has
    gathered the data, since imports and live events both count."""
    users = interactions.columns.get("USER_ID") if interactions is not None else None
    total = 0 if users is None else len(users)
    if total < MIN_INTERACTIONS:
        raise InsufficientTrainingDataError(
            f"Insufficient data: the Interactions dataset has {total} interactions; at least "
            f"{MIN_INTERACTIONS} are required to train.")
    active = sum(1 for count in Counter(users.tolist()).values() if count >= 2)
    if active < MIN_USERS_WITH_TWO:
        raise InsufficientTrainingDataError(
            f"Insufficient data: {active} users have two or more interactions; at least "
            f"{MIN_USERS_WITH_TWO} such users are required to train.")
