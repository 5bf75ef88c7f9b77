"""In-process feed of PutItems / PutUsers / PutActions records, so that serving caches in
the same process (the embedded server, one Lambda container) see new metadata on the very
next request without re-reading storage. Durability is the store's job; this is only the
cache-invalidation signal, delivered synchronously before PutItems returns.
"""
from __future__ import annotations

import threading
from typing import Callable

Listener = Callable[[str, str, list[dict]], None]   # (dataset group arn, dataset type, rows)

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> None:
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def publish(dataset_group_arn: str, dataset_type: str, rows: list[dict]) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(dataset_group_arn, dataset_type, rows)
