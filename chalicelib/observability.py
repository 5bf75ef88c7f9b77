"""Logs, metrics and traces for the Lambda handlers, with Powertools for AWS Lambda.

- Logger: one structured JSON line per request (operation, resource ARN, status, latency,
  request id); chalicelib's own loggers get the same JSON formatting.
- Metrics: CloudWatch embedded metric format (EMF) lines on stdout, under
  POWERTOOLS_METRICS_NAMESPACE: Requests, Errors, Latency per operation; TrainingTime per
  finished training task. CloudWatch turns EMF log lines into metrics, no API calls.
- Tracer: X-Ray annotations, and boto3 calls traced; Powertools disables it by itself
  outside Lambda (and under `chalice local`), so locally every hook is a no-op.

Gateway.on_response calls record_request once per request (wired in app.py).
"""
from __future__ import annotations

import logging
import os
import threading

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from chalicelib import strict_json

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "personalize")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Personalize")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
_metrics_lock = threading.Lock()  # EMF sets are built then flushed as one unit
_configured = False


def configure() -> None:
    """Route chalicelib's standard-library loggers through the JSON formatter (once)."""
    global _configured
    if not _configured:
        copy_config_to_registered_loggers(source_logger=logger, include={"chalicelib"})
        logging.getLogger("chalicelib").setLevel(logger.log_level)
        _configured = True


def resource_arn(*bodies: bytes | str | None) -> str | None:
    """The ARN a request is about: the first `...Arn` string of the request parameters,
    else of the response (CreateX answers with the new ARN)."""
    for body in bodies:
        try:   # strict: a hostile body (deep nesting, lone surrogates) never breaks a log
            value = strict_json.loads(body) if body else None
        except strict_json.JsonError:
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("Arn") and isinstance(item, str):
                    return item
    return None


def _emit(metrics: list[tuple[str, str, float]], dimensions: dict[str, str]) -> None:
    """One EMF document with the given metrics, flushed at once (Lambda may freeze the
    container right after the response, so nothing is left buffered)."""
    if is_metrics_disabled():
        return
    with _metrics_lock:
        emf = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for name, value in dimensions.items():
            emf.add_dimension(name=name, value=value)
        for name, unit, value in metrics:
            emf.add_metric(name=name, unit=unit, value=value)
        emf.flush_metrics()


def record_request(context, response, seconds: float, request_body: bytes | None) -> None:
    """Gateway.on_response: context is None when the request never reached an operation
    (unknown route, missing signature, invalid JSON)."""
    service = context.service if context is not None else "personalize"
    operation = context.operation if context is not None else "Unknown"
    failed = response.status >= 400
    arn = resource_arn(request_body, response.body)
    fields = {"api": service, "operation": operation, "status": response.status,
              "latency_ms": round(seconds * 1000, 3),
              "request_id": response.headers.get("x-amzn-RequestId")
              or (context.request_id if context is not None else None)}
    if arn:
        fields["resource_arn"] = arn
    if failed:
        fields["error"] = _error_code(response.body)
        logger.warning("request failed", extra=fields)
    else:
        logger.info("request", extra=fields)
    _emit([("Requests", MetricUnit.Count, 1),
           ("Errors", MetricUnit.Count, 1 if failed else 0),
           ("Latency", MetricUnit.Milliseconds, seconds * 1000)],
          {"Operation": operation})
    tracer.put_annotation(key="operation", value=operation)
    if arn:
        tracer.put_annotation(key="resource_arn", value=arn)


def record_training(solution_version_arn: str, seconds: float, succeeded: bool) -> None:
    """A training task finished (from the ECS task state change event)."""
    logger.info("training finished", extra={"resource_arn": solution_version_arn,
                                            "training_seconds": round(seconds, 3),
                                            "succeeded": succeeded})
    _emit([("TrainingTime", MetricUnit.Seconds, seconds),
           ("TrainingFailures", MetricUnit.Count, 0 if succeeded else 1)],
          {"Operation": "CreateSolutionVersion"})


def _error_code(body: bytes | str | None) -> str | None:
    try:
        value = strict_json.loads(body) if body else {}
    except strict_json.JsonError:
        return None
    code = value.get("__type") if isinstance(value, dict) else None
    return code.rsplit("#", 1)[-1] if isinstance(code, str) else None
