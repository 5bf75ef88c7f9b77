"""Which service and operation a request is for.

awsJson1.1 (personalize): POST / with X-Amz-Target 'AmazonPersonalize.<Operation>'.
restJson1 (runtime, events): by method and request URI, taken from the models.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from botocore.model import OperationModel

from chalicelib.errors import UnknownOperationException
from chalicelib.wire.service_models import SERVICES, service_model


@dataclass(frozen=True)
class Route:
    service: str
    operation: OperationModel


@lru_cache(maxsize=None)
def _rest_routes() -> dict[tuple[str, str], Route]:
    routes = {}
    for service in SERVICES:
        model = service_model(service)
        if model.protocol != "rest-json":
            continue
        for name in model.operation_names:
            op = model.operation_model(name)
            routes[(op.http["method"], op.http["requestUri"].split("?")[0])] = Route(service, op)
    return routes


@lru_cache(maxsize=None)
def _json_targets() -> dict[str, Route]:
    targets = {}
    for service in SERVICES:
        model = service_model(service)
        if model.protocol == "json":
            prefix = model.metadata["targetPrefix"]
            for name in model.operation_names:
                targets[f"{prefix}.{name}"] = Route(service, model.operation_model(name))
    return targets


def rest_paths() -> list[str]:
    return sorted({path for _, path in _rest_routes()})


def is_personalize_request(method: str, path: str, headers: dict[str, str],
                           query: str = "") -> bool:
    """Whether a request is for one of the three services, by its shape alone (an
    X-Amz-Target, or a runtime/events path with no query), never by how it is signed: the
    embedded server answers S3 on the same port, and the signature's service must match
    the service the request is for, not choose it."""
    if "x-amz-target" in headers:
        return True
    return not query and (method.upper(), path.rstrip("/") or "/") in _rest_routes()


def route(method: str, path: str, headers: dict[str, str]) -> Route:
    """Headers are expected with lower-case names."""
    target = headers.get("x-amz-target")
    if target is not None:
        found = _json_targets().get(target)
        if found is None:
            raise UnknownOperationException(f"Operation {target} is not supported.")
        return found
    found = _rest_routes().get((method.upper(), path.rstrip("/") or "/"))
    if found is None:
        raise UnknownOperationException(
            f"No operation matches {method.upper()} {path}")
    return found
