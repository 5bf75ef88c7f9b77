"""Hypothesis strategies from botocore shapes: values that satisfy an input shape, and
single violations of it (the kinds of mistakes a client makes)."""
from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

from chalicelib.wire.validation import _compiled

JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def body_members(shape):
    """Members sent in the body (not in the URI, query or headers)."""
    return {name: member for name, member in shape.members.items()
            if not member.serialization.get("location")}


@lru_cache(maxsize=None)   # building strategies (from_regex above all) is the slow part
def valid(shape, depth: int = 0):
    """A value the validator accepts for `shape`."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        members = body_members(shape)
        required = {n: valid(m, depth + 1) for n, m in members.items()
                    if n in shape.required_members}
        optional = {} if depth > 2 else {n: valid(m, depth + 1) for n, m in members.items()
                                         if n not in shape.required_members}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(valid(shape.member, depth + 1), min_size=meta.get("min", 0),
                        max_size=min(meta.get("max", 3), 3))
    if kind == "map":
        return st.dictionaries(valid(shape.key, depth + 1), valid(shape.value, depth + 1),
                               min_size=meta.get("min", 0), max_size=min(meta.get("max", 2), 2))
    if kind == "string":
        return _valid_string(meta)
    if kind in ("integer", "long"):
        return st.integers(meta.get("min", -2**31), meta.get("max", 2**31 - 1))
    if kind in ("float", "double"):
        return st.floats(meta.get("min", -1e9), meta.get("max", 1e9), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.floats(0, 4e9, allow_nan=False)
    return st.text(max_size=8)


def _valid_string(meta):
    if "enum" in meta:
        return st.sampled_from(meta["enum"])
    low, high = meta.get("min", 0), min(meta.get("max", 40), 40)
    regex = _compiled(meta["pattern"]) if meta.get("pattern") else None
    if regex is None:
        return st.text(min_size=low, max_size=max(low, high))
    return st.from_regex(regex, fullmatch=True).filter(
        lambda s: low <= len(s) <= meta.get("max", 10**9))


def _wrong_type(shape):
    wrong = {"string": st.integers() | st.booleans() | st.lists(st.text(max_size=3), max_size=2),
             "integer": st.text(max_size=5) | st.floats(allow_nan=False, allow_infinity=False),
             "boolean": st.text(max_size=5) | st.integers(),
             "list": st.text(max_size=5) | st.dictionaries(st.text(max_size=3), st.integers(),
                                                           min_size=1, max_size=2),
             "map": st.text(max_size=5) | st.lists(st.integers(), max_size=2),
             "structure": st.text(max_size=5) | st.integers() | st.lists(st.integers(),
                                                                        max_size=2),
             "timestamp": st.lists(st.integers(), max_size=2) | st.booleans()
             | st.text(alphabet="xyz", min_size=1, max_size=5)}
    kind = {"long": "integer", "float": "boolean", "double": "boolean"}.get(
        shape.type_name, shape.type_name)
    if shape.type_name in ("float", "double"):
        return st.text(max_size=5) | st.booleans() | st.lists(st.integers(), max_size=2)
    return wrong.get(kind, st.nothing())


@lru_cache(maxsize=None)
def violations(shape):
    """(label, strategy of a bad value) for one member shape; each value surely fails."""
    kind, meta = shape.type_name, shape.metadata
    out = [("wrong type", _wrong_type(shape))]
    if kind == "string":
        if "max" in meta:
            out.append(("too long", st.integers(meta["max"] + 1, meta["max"] + 300).map(
                lambda n: "a" * n)))
        if meta.get("min", 0) > 0:
            out.append(("too short", st.just("")))
        if "enum" in meta:
            out.append(("unknown enum", st.text(min_size=1, max_size=20).filter(
                lambda s: s not in meta["enum"])))
        regex = _compiled(meta["pattern"]) if meta.get("pattern") else None
        if regex is not None:
            out.append(("bad pattern", st.text(min_size=max(meta.get("min", 0), 1),
                                               max_size=min(meta.get("max", 30), 30))
                        .filter(lambda s: not regex.fullmatch(s))))
    if kind in ("integer", "long"):
        if "max" in meta:
            out.append(("too big", st.integers(meta["max"] + 1, meta["max"] + 10**12)))
        if "min" in meta:
            out.append(("too small", st.integers(meta["min"] - 10**12, meta["min"] - 1)))
    if kind in ("list", "map") and "max" in meta and meta["max"] <= 100:
        item = st.text(max_size=3) if kind == "list" else None
        if kind == "list":
            out.append(("too many", st.lists(item, min_size=meta["max"] + 1,
                                             max_size=meta["max"] + 3)))
    return out

