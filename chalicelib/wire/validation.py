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

    def violation(self, path: str, value, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.problems.append(
            f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

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
    result = _structure(shape, params, "", collector)
    collector.raise_if_any()
    return result


def _check_type(value, expected: type | tuple, path: str, type_name: str) -> None:
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise SerializationException(
            f"Expected {type_name} for '{path or 'body'}', got {type(value).__name__}")


def _structure(shape, value, path, collector) -> dict:
    _check_type(value, dict, path, "an object")
    out = {}
    for name in shape.required_members:
        if value.get(name) is None:
            collector.violation(_join(path, name), None, "Member must not be null")
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            out[name] = _value(member, value[name], _join(path, name), collector)
    return out


def _join(path: str, name) -> str:
    return f"{path}.{name}" if path else str(name)


def _value(shape, value, path, collector):
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        return _structure(shape, value, path, collector)
    if kind == "list":
        _check_type(value, list, path, "a list")
        _length(value, meta, path, collector, "Member must have length")
        return [_value(shape.member, v, f"{path}.{i + 1}.member", collector)
                for i, v in enumerate(value)]
    if kind == "map":
        _check_type(value, dict, path, "a map")
        _length(value, meta, path, collector, "Member must have length")
        return {_value(shape.key, k, f"{path}.key", collector):
                _value(shape.value, v, f"{path}.{k}", collector) for k, v in value.items()}
    if kind == "string":
        _check_type(value, str, path, "a string")
        if lone_surrogate(value) is not None:
            collector.violation(path, value, "Member must contain only valid Unicode "
                                             "characters (it has a lone UTF-16 surrogate)")
            return value
        _length(value, meta, path, collector, "Member must have length")
        if "enum" in meta and value not in meta["enum"]:
            collector.violation(path, value,
                                f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern")
        if pattern and (regex := _compiled(pattern)) and not regex.fullmatch(value):
            collector.violation(path, value,
                                f"Member must satisfy regular expression pattern: {pattern}")
        return value
    if kind in ("integer", "long"):
        _check_type(value, int, path, "an integer")
        bits = _INTEGER_BITS[kind]
        if not -2 ** (bits - 1) <= value < 2 ** (bits - 1):
            raise SerializationException(
                f"The number at '{path}' is out of range for a {bits}-bit {kind}.")
        _range(value, meta, path, collector)
        return value
    if kind in ("float", "double"):
        _check_type(value, (int, float), path, "a number")
        number = float(value) if isinstance(value, float) or abs(value) < 2 ** 1023 \
            else math.inf
        if not math.isfinite(number):
            collector.violation(path, value, "Member must be a finite number")
            return number
        _range(number, meta, path, collector)
        return number
    if kind == "boolean":
        _check_type(value, bool, path, "a boolean")
        return value
    if kind == "timestamp":
        return _timestamp(value, path, collector)
    return value  # blob and anything else: passed through


def _length(value, meta, path, collector, constraint) -> None:
    if "min" in meta and len(value) < meta["min"]:
        collector.violation(path, value, f"{constraint} greater than or equal to {meta['min']}")
    if "max" in meta and len(value) > meta["max"]:
        collector.violation(path, value, f"{constraint} less than or equal to {meta['max']}")


def _range(value, meta, path, collector) -> None:
    if "min" in meta and value < meta["min"]:
        collector.violation(path, value,
                            f"Member must have value greater than or equal to {meta['min']}")
    if "max" in meta and value > meta["max"]:
        collector.violation(path, value,
                            f"Member must have value less than or equal to {meta['max']}")


def _timestamp(value, path, collector) -> float:
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) if isinstance(value, float) or abs(value) < 2 ** 1023 \
            else math.inf
    elif isinstance(value, str):
        try:
            seconds = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            pass
    if seconds is None:
        raise SerializationException(f"Expected a timestamp for '{path}', got {_show(value)}")
    if not _EARLIEST <= seconds <= _LATEST:   # also NaN and infinity
        collector.violation(path, value, "Member must be a finite timestamp between years "
                                         "1 and 9999")
    return seconds
