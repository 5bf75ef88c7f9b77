"""One HTTP request in, one HTTP response out, for all three Personalize services.

Used by the Chalice handlers in app.py and by the embedded server alike.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalicelib import strict_json
from chalicelib.errors import (InternalFailure, NotImplementedException,
                               ResourceNotFoundException, SerializationException, ServiceError,
                               UnsupportedMediaTypeException)
from chalicelib.wire import auth
from chalicelib.wire.router import route
from chalicelib.wire.serializer import HttpResponse, serialize_error, serialize_result
from chalicelib.wire.validation import validate

log = logging.getLogger(__name__)

_STATUS_OVERRIDES = {"MissingAuthenticationTokenException": 403,
                     "UnrecognizedClientException": 403, "NotImplementedException": 501,
                     "UnsupportedMediaTypeException": 415,
                     "RequestEntityTooLargeException": 413}


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]          # any case; normalised to lower-case names
    body: bytes = b""

    def __post_init__(self):
        self.headers = {k.lower(): v for k, v in self.headers.items()}


@dataclass
class RequestContext:
    """What a provider method knows about the call besides its parameters."""
    service: str
    operation: str
    account_id: str
    region: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received_at: float = field(default_factory=time.time)

    @property
    def arn_prefix(self) -> str:
        return f"arn:aws:personalize:{self.region}:{self.account_id}"


def method_name(operation: str) -> str:
    """CreateDatasetGroup -> create_dataset_group."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


class Gateway:
    def __init__(self, providers: dict[str, Any], account_id: str, region: str,
                 known_keys: dict[str, str] | None = None):
        self.providers = providers
        self.account_id = account_id
        self.region = region
        self.known_keys = known_keys
        self.on_response = None  # optional hook(context, response, seconds) for metrics/logs

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        service = "personalize"
        started = time.perf_counter()
        context = None
        try:
            found = route(request.method, request.path, request.headers)
            service = found.service
            caller = auth.identify(request.headers, self.account_id, self.region,
                                   self.known_keys)
            _check_content_type(request.headers.get("content-type"), request.body)
            context = RequestContext(service, found.operation.name, caller.account_id,
                                     caller.region, request_id)
            result = self.invoke(context, found.operation, _json_body(request.body))
            response = serialize_result(service, found.operation, result, request_id)
        except ServiceError as error:
            response = serialize_error(service, error, request_id)
            response.status = _STATUS_OVERRIDES.get(error.code, response.status)
        except Exception:  # a bug of ours: never leak a trace, never hang the client
            log.exception("internal failure in %s", request.path)
            response = serialize_error(service, InternalFailure(
                "We encountered an internal error. Please try again."), request_id)
            response.status = 500
        if self.on_response is not None:
            self.on_response(context, response, time.perf_counter() - started)
        return response


    def invoke(self, context: RequestContext, operation, params: dict):
        """One operation for an identified caller: the parameters validated against the
        model, ARNs of other accounts refused, then the provider method. (The console
        calls this too, for a viewer it has identified by session.)"""
        params = validate(operation.input_shape, params)
        _check_arns_visible(params, context)
        handler = getattr(self.providers[context.service], method_name(operation.name), None)
        if handler is None:
            raise NotImplementedException(f"{operation.name} is not implemented yet.")
        return handler(context, **params)


def _json_body(body: bytes) -> dict:
    """The body as a JSON object. Strict (chalicelib.strict_json): not UTF-8, NaN and
    Infinity tokens are SerializationException, as AWS's parser refuses them; numbers too
    large for a double and lone surrogates are left to the validator, which names the
    member they are in."""
    if not body or not body.strip():
        return {}
    try:
        value = strict_json.loads(body, finite=False, unicode=False)
    except strict_json.JsonError as error:
        raise SerializationException(error.message) from None
    if not isinstance(value, dict):
        raise SerializationException("The request body must be a JSON object")
    return value


_PERSONALIZE_ARN = re.compile(r"arn:[^:]*:personalize:([^:]*):([^:]*):")


def _check_arns_visible(params: dict, context: RequestContext) -> None:
    """A resource ARN of another account or region names nothing the caller can see:
    ResourceNotFoundException, as for an ARN that does not exist. (Recipes and other
    catalogue ARNs name no account or region and are everyone's.)"""
    for name, value in params.items():
        if not (name.endswith("Arn") and isinstance(value, str)):
            continue
        match = _PERSONALIZE_ARN.match(value)
        if match and all(match.groups()) and match.groups() != (context.region,
                                                                context.account_id):
            raise ResourceNotFoundException(f"Resource Arn {value} does not exist.")


def _check_content_type(content_type: str | None, body: bytes) -> None:
    """Bodies are JSON (application/x-amz-json-1.1, application/json); a body declared
    as anything else is refused, as AWS refuses it. No Content-Type: read as JSON."""
    if not content_type or not body:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if not (media.endswith("/json") or media.startswith("application/x-amz-json")
            or media.endswith("+json")):
        raise UnsupportedMediaTypeException(
            f"Content-Type {media} is not supported: send the body as "
            "application/x-amz-json-1.1 (personalize) or application/json.")
