"""Generated hostile input through the real server over HTTP (the in-process version is
tests/wire/test_generated_requests.py): every bad request is a 4xx naming an AWS
exception; requests that satisfy the model are never a 5xx; nothing hangs (every request
has a client timeout). The number of cases tried is printed (pytest -s)."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib import errors
from chalicelib.wire.service_models import SERVICES, service_model
from tests.conftest import Endpoint
from tests.reliability import shapes
from tests.reliability.http import operation_target, send, signing_name

FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
OPERATIONS = [(s, service_model(s).operation_model(name))
              for s in SERVICES for name in service_model(s).operation_names]
AWS_ERRORS = {name for s in SERVICES for name in service_model(s).shape_names
              if service_model(s).shape_for(name).metadata.get("exception")} | {
    name for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.ServiceError)}
TRIED = Counter()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    endpoint = Endpoint(tmp_path_factory.mktemp("fuzz")).start()
    yield endpoint
    endpoint.stop()
    print(f"\nreliability fuzz over HTTP: {sum(TRIED.values())} cases tried: "
          + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())))


def request(server, service, operation, body: bytes, headers=None):
    method, path, base = operation_target(service, operation)
    return send(server.url, method, path, body, {**base, **(headers or {})},
                sign_as=signing_name(service))


def assert_client_error(reply, what):
    assert 400 <= reply.status < 500, f"{what}: {reply.status} {reply.body[:300]!r}"
    assert reply.error_type in AWS_ERRORS, f"{what}: {reply.error_type} {reply.body[:300]!r}"


@st.composite
def one_violation(draw):
    """An operation's body with every required member valid but one member broken."""
    service, operation = draw(st.sampled_from(OPERATIONS))
    shape = operation.input_shape
    members = shapes.body_members(shape) if shape is not None else {}
    assume(members)
    name = draw(st.sampled_from(sorted(members)))
    label, bad = draw(st.sampled_from(shapes.violations(members[name])))
    body = draw(shapes.valid(shape))
    body[name] = draw(bad)
    return service, operation, f"{name} {label}", body


@st.composite
def one_missing(draw):
    service, operation = draw(st.sampled_from(
        [(s, op) for s, op in OPERATIONS if op.input_shape is not None
         and set(op.input_shape.required_members) & set(shapes.body_members(op.input_shape))]))
    body = draw(shapes.valid(operation.input_shape))
    required = sorted(set(operation.input_shape.required_members) & set(body))
    name = draw(st.sampled_from(required))
    body.pop(name) if draw(st.booleans()) else body.update({name: None})
    return service, operation, f"{name} missing", body


@FUZZ
@given(case=one_violation())
def test_a_broken_member_is_a_client_error(server, case):
    service, operation, what, body = case
    TRIED["broken member"] += 1
    reply = request(server, service, operation, json.dumps(body).encode())
    assert_client_error(reply, f"{operation.name} {what}")
    assert reply.error_type in ("InvalidInputException", "SerializationException"), what


@FUZZ
@given(case=one_missing())
def test_a_missing_required_member_is_named(server, case):
    service, operation, what, body = case
    TRIED["missing required"] += 1
    reply = request(server, service, operation, json.dumps(body).encode())
    assert_client_error(reply, f"{operation.name} {what}")
    assert what.split()[0] in reply.json["message"]


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_requests_the_model_allows_are_never_a_server_error(server, data):
    """Valid shapes with made-up ARNs, ids and names: 200 or a 4xx, never a 5xx."""
    service, operation = data.draw(st.sampled_from(OPERATIONS))
    body = data.draw(shapes.valid(operation.input_shape)) if operation.input_shape else {}
    TRIED["model-valid"] += 1
    reply = request(server, service, operation, json.dumps(body).encode())
    assert reply.status < 500, f"{operation.name} {body}: {reply.status} {reply.body[:300]!r}"
    if reply.status >= 400:
        assert_client_error(reply, operation.name)


def _not_a_json_object(raw: bytes) -> bool:
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return True


@FUZZ
@given(operation=st.sampled_from(OPERATIONS),
       raw=st.binary(min_size=1, max_size=200) | st.text(max_size=100).map(str.encode)
       | shapes.JUNK.map(lambda v: json.dumps(v).encode()) | st.integers(1, 50_000).map(
           lambda n: b"[" * n + b"]" * n))
def test_malformed_bodies_are_serialization_errors(server, operation, raw):
    assume(raw.strip() and _not_a_json_object(raw))
    TRIED["malformed body"] += 1
    reply = request(server, *operation, raw)
    assert_client_error(reply, f"{operation[1].name} {raw[:50]!r}")
    assert reply.error_type == "SerializationException"


@FUZZ
@given(operation=st.sampled_from(OPERATIONS),
       media=st.sampled_from(["text/plain", "text/xml", "application/xml",
                              "application/x-www-form-urlencoded", "multipart/form-data",
                              "application/octet-stream", "image/png"]))
def test_wrong_content_types_are_refused(server, operation, media):
    TRIED["wrong content type"] += 1
    reply = request(server, *operation, b"{}", {"Content-Type": media})
    assert_client_error(reply, f"{operation[1].name} {media}")
    assert reply.status == 415


@FUZZ
@given(target=st.text(max_size=60), path=st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%"),
    max_size=40), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
def test_unknown_targets_and_paths(server, target, path, method):
    known = {f"{service_model(s).metadata.get('targetPrefix')}.{op.name}"
             for s, op in OPERATIONS}
    TRIED["unknown target/path"] += 1
    header = target.encode("latin-1", "ignore").decode("latin-1").strip()
    if header and header not in known and header.isprintable():
        reply = send(server.url, "POST", "/", b"{}", {"X-Amz-Target": header})
        assert_client_error(reply, f"target {header!r}")
        assert reply.error_type == "UnknownOperationException"
    routes = {op.http["requestUri"].split("?")[0] for _, op in OPERATIONS}
    assume("/" + path.strip("/") not in routes)
    reply = send(server.url, method, "/" + path.lstrip("/") + "x", b"",
                 sign_as="personalize")
    if reply.body.startswith(b"<?xml"):
        # No Personalize request has this shape: the embedded S3 on the same port answers
        # it, and refuses a signature scoped to another service, as S3 does.
        assert (reply.status, reply.error_type) == (400, "AuthorizationHeaderMalformed")
        return
    assert_client_error(reply, f"{method} /{path}")


@pytest.mark.parametrize("service", SERVICES)
def test_huge_bodies_are_refused_and_the_server_stays_up(server, service):
    operation = next(op for s, op in OPERATIONS if s == service)
    for size in (11 * 2**20, 20 * 2**20):
        TRIED["huge body"] += 1
        reply = request(server, service, operation, b'{"x": "' + b"a" * size + b'"}')
        assert reply.status == 413 and reply.error_type == "RequestEntityTooLargeException"
    ok = send(server.url, "POST", "/", b"{}",
              {"X-Amz-Target": "AmazonPersonalize.ListRecipes"})
    assert ok.status == 200
