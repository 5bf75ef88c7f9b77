"""Check request parameters against the input shape, as AWS's front end does.

Type mismatches are SerializationException (the body cannot be read as the shape), and so
is an integer beyond its 32- or 64-bit type, as a Java front end cannot read it either;
constraint violations are InvalidInputException with AWS's 'N validation errors detected'
wording. A number or timestamp must be finite (1e400 reads as infinity) and a string
must be valid Unicode (no lone surrogate from a "\\ud800" escape): both are constraint
violations that name the member. Members unknown to the shape are ignored, as AWS ignores
them.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache

from botocore.model import Shape

from chalicelib.errors import InvalidInputException, SerializationException
from chalicelib.strict_json import lone_surrogate, printable

_JAVA_ONLY = re.compile(r"\\p\{")
_INTEGER_BITS = {"integer": 32, "long": 64}
# What a timestamp can be: datetime's years 1 to 9999, in epoch seconds.
_EARLIEST, _LATEST = -62135596800.0, 253402300799.0


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern | None:
    if _JAVA_ONLY.search(pattern):
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _show(value) -> str:
    text = printable(str(value))
    return text if len(text) <= 64 else text[:61] + "..."


class _Collector:
    def __init__(self):
        self.problems: list[str] = []

    def violation(self, path, value, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.problems.append(
            f"Value {shown} at '{_render(path)}' failed to satisfy constraint: {constraint}")

    def raise_if_any(self) -> None:
        if self.problems:
            count = len(self.problems)
            noun = "error" if count == 1 else "errors"
            raise InvalidInputException(
                f"{count} validation {noun} detected: " + "; ".join(self.problems))


def validate(shape: Shape | None, params: dict) -> dict:
    """Validated parameters with timestamps converted to float epoch seconds."""
    if shape is None:
        return {}
    collector = _Collector()
    result = _checker(shape)(params, "", collector)
    collector.raise_if_any()
    return result


# --- paths -------------------------------------------------------------------------------
# A member's path ('eventList.3.member.itemId') is written only into an error. While
# checking it is a chain of tuples, which costs a fraction of formatting a string for
# every value of every request.

def _render(path) -> str:
    if isinstance(path, str):
        return path
    kind, parent = path[0], _render(path[1])
    if kind == "member":
        return f"{parent}.{path[2]}" if parent else str(path[2])
    if kind == "item":
        return f"{parent}.{path[2]}.member"
    if kind == "key":
        return f"{parent}.key"
    return f"{parent}.{path[2]}"   # a map value, under its key


# --- one checker per shape ------------------------------------------------------------------
# Each shape is compiled once into a function (value, path, collector) -> value, with its
# constraints read out of the model ahead of time: the request path then pays for the
# checks, not for looking up what to check.

_CHECKERS: dict[int, tuple[Shape, object]] = {}


def _checker(shape: Shape):
    found = _CHECKERS.get(id(shape))
    if found is not None and found[0] is shape:
        return found[1]
    compiled: list = []

    def deferred(value, path, collector):  # a shape that contains itself, while compiling
        return compiled[0](value, path, collector)
    _CHECKERS[id(shape)] = (shape, deferred)
    compiled.append(_compile(shape))
    _CHECKERS[id(shape)] = (shape, compiled[0])
    return compiled[0]


def _type_error(value, path, type_name: str) -> SerializationException:
    return SerializationException(
        f"Expected {type_name} for '{_render(path) or 'body'}', got {type(value).__name__}")


def _compile(shape: Shape):
    kind = shape.type_name
    meta = shape.metadata
    lengths = _bounds(meta, "Member must have length")
    if kind == "structure":
        return _compile_structure(shape)
    if kind == "list":
        item = _checker(shape.member)

        def check_list(value, path, collector):
            if not isinstance(value, list):
                raise _type_error(value, path, "a list")
            if lengths:
                lengths(len(value), value, path, collector)
            return [item(v, ("item", path, i + 1), collector) for i, v in enumerate(value)]
        return check_list
    if kind == "map":
        key, entry = _checker(shape.key), _checker(shape.value)

        def check_map(value, path, collector):
            if not isinstance(value, dict):
                raise _type_error(value, path, "a map")
            if lengths:
                lengths(len(value), value, path, collector)
            return {key(k, ("key", path), collector): entry(v, ("value", path, k), collector)
                    for k, v in value.items()}
        return check_map
    if kind == "string":
        return _compile_string(meta, lengths)
    if kind in ("integer", "long"):
        bits = _INTEGER_BITS[kind]
        low, high = -2 ** (bits - 1), 2 ** (bits - 1)
        values = _bounds(meta, None)

        def check_integer(value, path, collector):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _type_error(value, path, "an integer")
            if not low <= value < high:
                raise SerializationException(
                    f"The number at '{_render(path)}' is out of range for a {bits}-bit {kind}.")
            if values:
                values(value, value, path, collector)
            return value
        return check_integer
    if kind in ("float", "double"):
        values = _bounds(meta, None)

        def check_number(value, path, collector):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _type_error(value, path, "a number")
            number = _as_float(value)
            if not math.isfinite(number):
                collector.violation(path, value, "Member must be a finite number")
                return number
            if values:
                values(number, number, path, collector)
            return number
        return check_number
    if kind == "boolean":
        def check_boolean(value, path, collector):
            if not isinstance(value, bool):
                raise _type_error(value, path, "a boolean")
            return value
        return check_boolean
    if kind == "timestamp":
        return _timestamp
    return lambda value, path, collector: value  # blob and anything else: passed through


def _compile_structure(shape: Shape):
    required = tuple(shape.required_members)
    members = tuple((name, _checker(member)) for name, member in shape.members.items())

    def check_structure(value, path, collector):
        if not isinstance(value, dict):
            raise _type_error(value, path, "an object")
        for name in required:
            if value.get(name) is None:
                collector.violation(("member", path, name), None, "Member must not be null")
        out = {}
        for name, check in members:
            member = value.get(name)
            if member is not None:
                out[name] = check(member, ("member", path, name), collector)
        return out
    return check_structure


def _compile_string(meta: dict, lengths):
    enum = meta.get("enum")
    allowed = frozenset(enum) if enum else None
    enum_rule = f"Member must satisfy enum value set: [{', '.join(enum)}]" if enum else ""
    pattern = meta.get("pattern")
    regex = _compiled(pattern) if pattern else None

    def check_string(value, path, collector):
        if not isinstance(value, str):
            raise _type_error(value, path, "a string")
        if not value.isascii() and lone_surrogate(value) is not None:
            collector.violation(path, value, "Member must contain only valid Unicode "
                                             "characters (it has a lone UTF-16 surrogate)")
            return value
        if lengths:
            lengths(len(value), value, path, collector)
        if allowed is not None and value not in allowed:
            collector.violation(path, value, enum_rule)
        if regex is not None and not regex.fullmatch(value):
            collector.violation(path, value,
                                f"Member must satisfy regular expression pattern: {pattern}")
        return value
    return check_string


def _bounds(meta: dict, length_rule: str | None):
    """A check of the shape's min/max (of a length when `length_rule` names it, else of
    the value), or None when the shape has neither."""
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return None
    rule = length_rule or "Member must have value"

    def check(measure, value, path, collector):
        if low is not None and measure < low:
            collector.violation(path, value, f"{rule} greater than or equal to {low}")
        if high is not None and measure > high:
            collector.violation(path, value, f"{rule} less than or equal to {high}")
    return check


def _as_float(value: int | float) -> float:
    """A JSON number as a float; an integer too large for one (float() would raise
    OverflowError) is infinity, which the callers then refuse as non-finite."""
    return float(value) if isinstance(value, float) or abs(value) < 2 ** 1023 else math.inf


def _timestamp(value, path, collector) -> float:
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = _as_float(value)
    elif isinstance(value, str):
        try:
            seconds = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            pass
    if seconds is None:
        raise SerializationException(
            f"Expected a timestamp for '{_render(path)}', got {_show(value)}")
    if not _EARLIEST <= seconds <= _LATEST:   # also NaN and infinity
        collector.violation(path, value, "Member must be a finite timestamp between years "
                                         "1 and 9999")
    return seconds
