"""What the hostile-input suites share: bodies that satisfy an operation's input shape in
type (so that only the member under test can be wrong), and a dataset group with an event
tracker and an Items dataset with a numerical field, ready for events without training."""
from __future__ import annotations

import json
import re

from chalicelib.wire.service_models import SERVICES, service_model
from tests.api.builders import GENRE_PRICE_ITEMS_SCHEMA, INTERACTIONS_SCHEMA, ready
from tests.reliability.flows import event_tracker
from tests.reliability.http import operation_target, send, signing_name

OPERATIONS = [(s, service_model(s).operation_model(name))
              for s in SERVICES for name in service_model(s).operation_names]
LONE_SURROGATE = "\ud800"
# A failureReason or batch line error is written for a user: never an exception's name and
# text, or a traceback.
PYTHON_TEXT = re.compile(r"Traceback|\b\w+(Error|Exception): |line \d+, in ")


def typed_filler(shape):
    """A value of the right JSON type for `shape` (constraints may still be broken)."""
    kind = shape.type_name
    if kind == "structure":
        return {name: typed_filler(member) for name, member in shape.members.items()
                if name in shape.required_members}
    if kind == "list":
        return []
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "a"
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return float(shape.metadata.get("min", 0.5))
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return 1_700_000_000
    return "a"


def string_members(operation) -> list[str]:
    """Top-level string members of the operation's input."""
    shape = operation.input_shape
    if shape is None:
        return []
    return sorted(n for n, m in shape.members.items() if m.type_name == "string")


def raw_call(url: str, service: str, operation: str, body: dict | str | bytes):
    """`operation` with `body` as given, signed: a dict as Python's json.dumps writes it
    (NaN, Infinity and \\ud800 escapes included), a str as UTF-8, bytes as they are."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    model = service_model(service).operation_model(operation)
    method, path, headers = operation_target(service, model)
    return send(url, method, path, body, headers, sign_as=signing_name(service))


def events_group(personalize, name: str) -> dict:
    """A dataset group with Interactions and Items (GENRE, PRICE) datasets, both ACTIVE,
    and an event tracker; nothing imported."""
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    ready(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
          ["datasetGroup", "status"])
    out = {"group": group}
    for dataset_type, schema in (("Interactions", INTERACTIONS_SCHEMA),
                                 ("Items", GENRE_PRICE_ITEMS_SCHEMA)):
        schema_arn = personalize.create_schema(name=f"{name}-{dataset_type}",
                                               schema=json.dumps(schema))["schemaArn"]
        out[dataset_type] = arn = personalize.create_dataset(
            name=f"{name}-{dataset_type}", schemaArn=schema_arn, datasetGroupArn=group,
            datasetType=dataset_type)["datasetArn"]
        ready(lambda: personalize.describe_dataset(datasetArn=arn), ["dataset", "status"])
    out["trackingId"] = event_tracker(personalize, group, f"{name}-tracker")["trackingId"]
    return out
