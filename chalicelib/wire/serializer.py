"""Provider results and errors -> HTTP responses, shaped by the output shape.

Only members of the shape are written (providers may keep internal fields in their
records: they never leak), timestamps as epoch seconds as both protocols default to.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from botocore.model import OperationModel, Shape

from chalicelib.errors import ServiceError
from chalicelib.wire.service_models import error_status, service_model


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
    return HttpResponse(200, json.dumps(body, separators=(",", ":")).encode(),
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
        return {name: _shaped(member, value[name])
                for name, member in shape.members.items()
                if value.get(name) is not None}
    if kind == "list":
        return [_shaped(shape.member, v) for v in value]
    if kind == "map":
        return {k: _shaped(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return value.timestamp() if isinstance(value, dt.datetime) else float(value)
    if kind in ("float", "double"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    return value
