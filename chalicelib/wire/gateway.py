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
from chalicelib.wire import auth, sigv4
from chalicelib.wire.keyring import Keyring
from chalicelib.wire.router import route
from chalicelib.wire.serializer import HttpResponse, serialize_error, serialize_result
from chalicelib.wire.validation import validate

log = logging.getLogger(__name__)

_STATUS_OVERRIDES = {"MissingAuthenticationTokenException": 403,
                     "UnrecognizedClientException": 403, "InvalidSignatureException": 403,
                     "IncompleteSignatureException": 403, "NotImplementedException": 501,
                     "UnsupportedMediaTypeException": 415,
                     "RequestEntityTooLargeException": 413, "RequestTimeoutException": 408}


@dataclass
class HttpRequest:
    method: str
    path: str                        # the route's path (API Gateway: without the stage)
    headers: dict[str, str]          # any case; normalised to lower-case names
    body: bytes = b""
    # What the client signed: the path as on the wire (percent-encoded; API Gateway: with
    # the stage) and the raw query string. Defaults: `path`, no query.
    raw_path: str | None = None
    raw_query: str = ""

    def __post_init__(self):
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        if self.raw_path is None:
            self.raw_path = self.path

    @property
    def signed(self) -> sigv4.Request:
        return sigv4.Request(self.method, self.raw_path, self.raw_query, self.headers)


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


# The signing name of all three services (botocore's models: metadata.signingName).
SIGNING_NAME = "personalize"


class Gateway:
    def __init__(self, providers: dict[str, Any], keyring: Keyring):
        self.providers = providers
        self.keyring = keyring
        self.on_response = None  # optional hook(context, response, seconds) for metrics/logs

    def identify(self, request: HttpRequest) -> auth.Identity:
        """Every check the headers allow (raises ServiceError): the embedded server calls
        this before it reads a body, so an unsigned or unknown caller never holds a
        connection open with a slow body."""
        try:
            return auth.identify(request.signed, SIGNING_NAME, self.keyring)
        except sigv4.AuthFailure as failure:
            raise auth.json_error(failure) from None

    def authenticate(self, request: HttpRequest,
                     identity: auth.Identity | None = None) -> auth.Caller:
        """identify + the signature over the body."""
        identity = identity or self.identify(request)
        try:
            identity.verify(request.signed, request.body)
        except sigv4.AuthFailure as failure:
            raise auth.json_error(failure) from None
        return identity.caller

    def error_response(self, error: ServiceError, service: str = "personalize",
                       request_id: str | None = None) -> HttpResponse:
        response = serialize_error(service, error, request_id or str(uuid.uuid4()))
        response.status = _STATUS_OVERRIDES.get(error.code, response.status)
        return response

    def handle(self, request: HttpRequest,
               identity: auth.Identity | None = None) -> HttpResponse:
        """`identity`: from identify(), when the caller already checked the headers."""
        request_id = str(uuid.uuid4())
        service = "personalize"
        started = time.perf_counter()
        context = None
        try:
            found = route(request.method, request.path, request.headers)
            service = found.service
            caller = self.authenticate(request, identity)
            _check_content_type(request.headers.get("content-type"), request.body)
            context = RequestContext(service, found.operation.name, caller.account_id,
                                     caller.region, request_id)
            result = self.invoke(context, found.operation, _json_body(request.body))
            response = serialize_result(service, found.operation, result, request_id)
        except ServiceError as error:
            response = self.error_response(error, service, request_id)
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
