"""JSON read as AWS's front ends read it, for request bodies and for the JSON that clients
embed in strings (PutEvents/PutItems `properties`, batch inference input lines).

Python's json module is laxer than the JSON standard and than AWS: it takes the tokens
NaN, Infinity and -Infinity, turns 1e400 into inf, guesses UTF-16/32 from the bytes, and
decodes an escaped lone surrogate ("\\ud800") into a string that can never be encoded as
UTF-8 again (SQLite, S3 and every later response then fail on it). Here each of those is a
JsonError whose message is written for the client.
"""
from __future__ import annotations

import json
import math
import re

import orjson

_SURROGATE = re.compile("[\ud800-\udfff]")
# orjson reads an integer literal beyond 64 bits as a float; such bodies take json's path
_LONG_DIGITS = re.compile(rb"\d{19}")


class JsonError(ValueError):
    """Why a text is not acceptable JSON; `message` is for the client."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def encode(value) -> bytes:
    """Compact JSON bytes: orjson (a fifth of the stdlib encoder's time; UTF-8 rather than
    \\u escapes, both valid JSON), the stdlib for what orjson refuses (integers beyond 64
    bits, lone surrogates). Callers leave non-finite floats out: orjson would write null."""
    try:
        return orjson.dumps(value)
    except TypeError:   # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def lone_surrogate(text: str) -> int | None:
    """Position of the first lone surrogate in `text` (never valid Unicode), or None.
    A correctly escaped pair ("\\ud83d\\ude00") is decoded into one character by the
    parser, so any surrogate left in a decoded string is a lone one."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    return found.start() if found else None


def printable(text: str) -> str:
    """`text` with lone surrogates written as \\udXXX escapes, safe to log and to send."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8") \
        if lone_surrogate(text) is not None else text


def decode_utf8(data: bytes, what: str = "The request body") -> str:
    """Strict UTF-8; a leading byte-order mark is dropped (Java's JSON readers skip it)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise JsonError(f"{what} is not valid UTF-8: byte 0x{data[error.start]:02x} at "
                        f"position {error.start} cannot start or continue a character.") \
            from None


def _refuse_constant(token: str):
    raise JsonError(f"{token} is not a JSON number: numbers must be finite.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"The number {text[:40]} is too large: numbers must be finite "
                        "double-precision values.")
    return value


def loads(data: bytes | str, what: str = "The request body", finite: bool = True,
          unicode: bool = True):
    """The parsed value. NaN/Infinity tokens are always refused. `finite`: a literal that
    overflows a double (1e400) is refused here too; without it it reads as inf, for a
    caller that checks numbers where it knows their names. `unicode`: a string (or key)
    holding a lone surrogate is refused; without it the caller checks strings itself."""
    if isinstance(data, (bytes, bytearray)) and not _LONG_DIGITS.search(data):
        # The fast path (a PutEvents body in a fifth of the time): orjson refuses every
        # token, byte and escape this module refuses or reports (NaN, 1e400, bad UTF-8, a
        # byte-order mark, lone surrogates, deep nesting); those bodies go on below, to
        # be read or refused with json's messages, exactly as without it.
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    text = decode_utf8(data, what) if isinstance(data, (bytes, bytearray)) else data
    try:
        value = json.loads(text, parse_constant=_refuse_constant,
                           parse_float=_finite_float if finite else float)
    except JsonError as error:
        raise JsonError(f"{what} is not valid JSON: {error.message}") from None
    except json.JSONDecodeError as error:
        raise JsonError(f"{what} is not valid JSON: {error.msg} at line {error.lineno} "
                        f"column {error.colno}.") from None
    except RecursionError:
        raise JsonError(f"{what} is nested too deeply.") from None
    if unicode:
        _check_strings(value, what)
    return value


def _check_strings(value, what: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = (item,)
        elif isinstance(item, dict):
            strings = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in strings:
            position = lone_surrogate(text)
            if position is not None:
                raise JsonError(f"{what} holds a string with a lone UTF-16 surrogate "
                                f"({printable(text[position])}), which is not valid "
                                "Unicode.")
