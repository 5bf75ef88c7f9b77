"""Requests generated from botocore's models, each violating one constraint, through the
gateway in-process: every one must be a 4xx with an AWS error code, never a 5xx."""
import json

import pytest

from chalicelib.wire.gateway import Gateway, HttpRequest
from chalicelib.wire.keyring import Keyring
from chalicelib.wire.service_models import SERVICES, service_model

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/personalize/aws4_request,"
        " SignedHeaders=host;x-amz-date, Signature=abc")
SIGNED = {"Authorization": AUTH, "Host": "localhost", "X-Amz-Date": "20261122T120000Z"}


class RecordingProvider:
    """Accepts any operation: what reaches it passed validation."""

    def __getattr__(self, name):
        return lambda ctx, **params: {}


@pytest.fixture(scope="module")
def gateway():
    # open mode (no keys): the signature's shape is checked, not its value
    return Gateway({s: RecordingProvider() for s in SERVICES},
                   Keyring.fixed(None, "000000000000"))


def operations():
    for service in SERVICES:
        model = service_model(service)
        for name in model.operation_names:
            yield service, model.operation_model(name)


def request_for(service, operation, body: bytes) -> HttpRequest:
    headers = dict(SIGNED)
    if service_model(service).protocol == "json":
        headers["X-Amz-Target"] = f"{service_model(service).metadata['targetPrefix']}." \
                                  f"{operation.name}"
        return HttpRequest("POST", "/", headers, body)
    return HttpRequest(operation.http["method"], operation.http["requestUri"], headers, body)


def wrong_type(shape):
    return {"string": 12345, "integer": "x", "long": "x", "float": "x", "double": "x",
            "boolean": "yes", "list": {"a": 1}, "map": [1], "structure": [1],
            "timestamp": {"t": 1}}.get(shape.type_name, [])


def violations(operation):
    """(description, body) pairs, each breaking one rule of the input shape."""
    shape = operation.input_shape
    yield "malformed json", b"{not json"
    yield "array body", b"[1, 2]"
    if shape is None:
        return
    if shape.required_members:
        yield "all required missing", b"{}"
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        yield f"{name} wrong type", json.dumps({name: wrong_type(member)}).encode()
        meta = member.metadata
        if member.type_name == "string" and "max" in meta:
            yield f"{name} too long", json.dumps({name: "a" * (meta["max"] + 1)}).encode()
        if member.type_name == "string" and "enum" in meta:
            yield f"{name} bad enum", json.dumps({name: "NOT_A_VALUE"}).encode()
        if member.type_name in ("integer", "long") and "max" in meta:
            yield f"{name} too big", json.dumps({name: meta["max"] + 1}).encode()
        if member.type_name in ("integer", "long") and "min" in meta:
            yield f"{name} too small", json.dumps({name: meta["min"] - 1}).encode()


CASES = [(s, op, what, body) for s, op in operations() for what, body in violations(op)]


def test_case_count_covers_every_operation():
    covered = {(s, op.name) for s, op, _, _ in CASES}
    assert len(covered) == sum(len(service_model(s).operation_names) for s in SERVICES)
    assert len(CASES) > 500


def test_every_violation_is_a_client_error(gateway):
    failures = []
    for service, operation, what, body in CASES:
        response = gateway.handle(request_for(service, operation, body))
        payload = json.loads(response.body)
        if not (400 <= response.status < 500 and payload.get("__type")):
            failures.append(f"{service}.{operation.name} {what}: {response.status} {payload}")
    assert not failures, "\n".join(failures[:20])


def test_unknown_target_and_path(gateway):
    response = gateway.handle(HttpRequest("POST", "/", {
        **SIGNED, "X-Amz-Target": "AmazonPersonalize.Nope"}, b"{}"))
    assert response.status == 400
    assert json.loads(response.body)["__type"] == "UnknownOperationException"
    response = gateway.handle(HttpRequest("POST", "/nowhere", SIGNED, b"{}"))
    assert response.status == 400


def test_missing_required_names_the_member(gateway):
    model = service_model("personalize")
    response = gateway.handle(request_for("personalize",
                                          model.operation_model("CreateDatasetGroup"), b"{}"))
    payload = json.loads(response.body)
    assert payload["__type"] == "InvalidInputException"
    assert "'name' failed to satisfy constraint: Member must not be null" in payload["message"]
