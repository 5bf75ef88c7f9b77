"""Keeping serving's long-lived objects out of the cyclic garbage collector's way.

A deployed model holds containers with millions of entries (item ids, the id -> row map,
training histories). CPython's full (generation 2) collection traverses every tracked
container, so with a million-item model each one paused the whole process for over
100 ms, at intervals set by allocation counts: a latency spike that no request could
avoid. After a model or catalogue is loaded, everything alive is moved to the permanent
generation (gc.freeze), which collections skip. Frozen objects are still freed by
reference counting when a model is replaced; the unfreeze + collect before each freeze
returns whatever garbage cycles the previous freeze held.
"""
from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def settle_long_lived() -> None:
    """Collect once (after a load: the pause is part of that slow request), then freeze
    what survived."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
