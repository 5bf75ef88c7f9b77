"""Streaming CSV validation: header matched to the schema, every row type-checked, written
out normalised (schema field names as the header). Never holds the file in memory."""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from typing import Iterable, TextIO

from chalicelib.datasets.schema import Schema

MIN_INTERACTIONS, MIN_USERS_WITH_TWO = 1000, 25


class DataImportError(Exception):
    pass


@dataclass
class ImportSummary:
    rows: int
    columns: list[str]


def _text_lines(lines: Iterable[bytes]):
    decoder = codecs.getincrementaldecoder("utf-8")()
    number = 0
    for number, raw in enumerate(lines, start=1):
        try:
            yield decoder.decode(raw) if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise DataImportError(f"Line {number} is not valid UTF-8.") from None


def _check(value: str, field, row: int) -> str:
    if value == "":
        if field.nullable or field.avro_type == "string" and not field.kind == "id":
            return ""
        raise DataImportError(f"Row {row}, column {field.name}: a value is required.")
    try:
        if field.avro_type in ("int", "long"):
            return str(int(float(value))) if field.kind == "timestamp" else str(int(value))
        if field.avro_type in ("float", "double"):
            return repr(float(value))
        if field.avro_type == "boolean" and value.lower() not in ("true", "false"):
            raise ValueError
    except ValueError:
        raise DataImportError(f"Row {row}, column {field.name}: {value!r} is not a valid "
                              f"{field.avro_type}.") from None
    return value


def import_csv(lines: Iterable[bytes], schema: Schema, dataset_type: str,
               sink: TextIO) -> ImportSummary:
    reader = csv.reader(_text_lines(lines))
    header = next(reader, None)
    if not header:
        raise DataImportError("The file is empty: a header row is required.")
    names = [h.strip().upper() for h in header]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DataImportError(f"Duplicate column(s) in the header: {', '.join(sorted(duplicates))}.")
    positions = {}
    for field in schema.fields:
        if field.name in names:
            positions[field.name] = names.index(field.name)
        elif not field.nullable:
            raise DataImportError(f"The header has no column {field.name}, which the schema "
                                  "requires.")
    fields = [f for f in schema.fields if f.name in positions]
    writer = csv.writer(sink)
    writer.writerow([f.name for f in fields])
    count = 0
    for count, row in enumerate(reader, start=1):
        if len(row) != len(names):
            raise DataImportError(f"Row {count} has {len(row)} columns; the header has "
                                  f"{len(names)}.")
        writer.writerow([_check(row[positions[f.name]], f, count) for f in fields])
    if count == 0:
        raise DataImportError("The file has a header but no rows.")
    return ImportSummary(count, [f.name for f in fields])


def check_training_minimums(interactions) -> None:
    """AWS refuses to train on fewer than 1000 interactions or 25 users with 2 or more."""
    users = interactions.columns.get("USER_ID")
    total = 0 if users is None else len(users)
    if total < MIN_INTERACTIONS:
        raise DataImportError(f"There are not enough interactions to train: {total} found, "
                              f"at least {MIN_INTERACTIONS} needed.")
    import collections
    counts = collections.Counter(users)
    active = sum(1 for c in counts.values() if c >= 2)
    if active < MIN_USERS_WITH_TWO:
        raise DataImportError(f"At least {MIN_USERS_WITH_TWO} users with 2 or more "
                              f"interactions are needed; {active} found.")
