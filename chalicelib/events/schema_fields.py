"""Which fields a dataset group's datasets declare, read straight from the Avro schemas.

Events validation, CreateFilter and serving only need field names and whether a field is
numeric, so this reads the schema JSON itself rather than the full import-time rules.
Results are cached briefly: PutEvents asks on every call, and schemas change only through
UpdateDataset (adding fields), where a few seconds of staleness is harmless.
"""
from __future__ import annotations

import json
import threading
import time

from chalicelib.resources import kinds

NUMERIC_TYPES = {"int", "long", "float", "double"}
NUMERICAL, STRING, TEXTUAL, BOOLEAN = "numerical", "string", "textual", "boolean"
_TTL_SECONDS = 5.0


def field_kinds(schema_text: str) -> dict[str, str]:
    """FIELD_NAME (upper-cased) -> 'numerical', 'string', 'textual' or 'boolean'."""
    try:
        fields = json.loads(schema_text).get("fields", [])
    except (ValueError, AttributeError):
        return {}
    out = {}
    for field in fields:
        types = field.get("type")
        types = types if isinstance(types, list) else [types]
        names = {t if isinstance(t, str) else (t or {}).get("type") for t in types}
        if field.get("textual"):
            kind = TEXTUAL
        elif names & NUMERIC_TYPES:
            kind = NUMERICAL
        elif "boolean" in names:
            kind = BOOLEAN
        else:
            kind = STRING
        out[str(field.get("name", "")).upper()] = kind
    return out


def _account_prefix(arn: str) -> str:
    return ":".join(arn.split(":")[:5])


def group_datasets(registry, dataset_group_arn: str) -> dict[str, dict]:
    """Dataset type ('Items', 'Interactions', ...) -> live dataset record of the group."""
    docs = registry.list(kinds.DATASET, _account_prefix(dataset_group_arn),
                         lambda d: d.get("datasetGroupArn") == dataset_group_arn
                         and d["status"] != "DELETE PENDING")
    return {d["datasetType"]: d for d in docs}


class SchemaCache:
    """dataset group -> {dataset type: {FIELD: kind}}, refreshed every few seconds."""

    def __init__(self, registry, ttl: float = _TTL_SECONDS):
        self.registry = registry
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def fields(self, dataset_group_arn: str) -> dict[str, dict[str, str]]:
        now = time.monotonic()
        hit = self._cache.get(dataset_group_arn)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = group_field_kinds(self.registry, dataset_group_arn)
        with self._lock:
            self._cache[dataset_group_arn] = (now, value)
        return value


def group_field_kinds(registry, dataset_group_arn: str) -> dict[str, dict[str, str]]:
    out = {}
    for dataset_type, dataset in group_datasets(registry, dataset_group_arn).items():
        schema = registry.store.get(kinds.SCHEMA.key, dataset["schemaArn"])
        out[dataset_type] = field_kinds(schema["schema"]) if schema else {}
    return out
