"""Provider results and errors -> HTTP responses, shaped by the output shape.

Only members of the shape are written (providers may keep internal fields in their
records: they never leak), timestamps as epoch seconds as both protocols default to.
NaN and infinity are no JSON numbers: a non-finite number is left out of its structure
(and logged) rather than written as a token no client can parse.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
from dataclasses import dataclass, field

from botocore.model import OperationModel, Shape

from chalicelib import strict_json
from chalicelib.errors import ServiceError
from chalicelib.wire.service_models import error_status, service_model

log = logging.getLogger(__name__)


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _content_type(service: str) -> str:
    if service_model(service).protocol == "json":
        return "application/x-amz-json-1.1"
    return "application/json"


def serialize_result(service: str, operation: OperationModel, result: dict | None,
                     request_id: str) -> HttpResponse:
    shape = operation.output_shape
    body = _shaped(shape, result or {}) if shape is not None else {}
    return HttpResponse(200, strict_json.encode(body),
                        {"Content-Type": _content_type(service),
                         "x-amzn-RequestId": request_id})


def serialize_error(service: str, error: ServiceError, request_id: str) -> HttpResponse:
    body = {"__type": error.code, "message": error.message}
    return HttpResponse(error_status(service, error.code),
                        json.dumps(body).encode(),
                        {"Content-Type": _content_type(service),
                         "x-amzn-ErrorType": error.code,
                         "x-amzn-RequestId": request_id})


def _shaped(shape: Shape, value):
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                shaped = _shaped(member, value[name])
                if shaped is not None:
                    out[name] = shaped
        return out
    if kind == "list":
        return [_shaped(shape.member, v) for v in value]
    if kind == "map":
        shaped = ((k, _shaped(shape.value, v)) for k, v in value.items())
        return {k: v for k, v in shaped if v is not None}
    if kind == "timestamp":
        return value.timestamp() if isinstance(value, dt.datetime) else float(value)
    if kind in ("float", "double"):
        number = float(value)
        if not math.isfinite(number):
            log.error("a non-finite %s (%s) was left out of a response", shape.name, number)
            return None
        return number
    if kind in ("integer", "long"):
        return int(value)
    return value
