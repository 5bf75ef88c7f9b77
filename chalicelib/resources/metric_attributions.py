"""Metric attributions: which events to count toward business metrics, per dataset group."""
from __future__ import annotations

import re

from chalicelib.batch.jobs import check_s3_path
from chalicelib.datasets.reader import group_fields
from chalicelib.errors import (InvalidInputException, LimitExceededException,
                               ResourceAlreadyExistsException, ResourceInUseException)
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase, not_deleted
from chalicelib.records.pagination import page
from chalicelib.records.registry import ACTIVE, UPDATE_PENDING

MAX_METRICS = 10
# AWS's two forms: SUM(DatasetType.COLUMN) and SAMPLECOUNT().
_EXPRESSION = re.compile(r"\s*(?:SUM\(\s*(\w+)\.(\w+)\s*\)|SAMPLECOUNT\(\s*\))\s*", re.I)


def check_metrics(metrics: list[dict], schemas: dict[str, dict[str, str]]) -> None:
    """schemas: dataset type -> {FIELD: kind} of the group's datasets."""
    if len(metrics) > MAX_METRICS:
        raise LimitExceededException(
            f"A metric attribution may have at most {MAX_METRICS} metrics.")
    names = [m["metricName"] for m in metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputException(f"Duplicate metric names: {', '.join(duplicates)}.")
    for metric in metrics:
        match = _EXPRESSION.fullmatch(metric["expression"])
        if match is None:
            raise InvalidInputException(
                f"Invalid expression {metric['expression']!r} for metric "
                f"{metric['metricName']}: use SUM(DatasetType.COLUMN) or SAMPLECOUNT().")
        dataset_type, column = match.groups()
        if dataset_type is None:
            continue
        fields = {t.upper(): f for t, f in schemas.items()}.get(dataset_type.upper())
        if fields is None:
            raise InvalidInputException(
                f"Metric {metric['metricName']}: the dataset group has no {dataset_type} "
                "dataset.")
        if column.upper() not in fields:
            raise InvalidInputException(
                f"Metric {metric['metricName']}: {column} is not a field of the "
                f"{dataset_type} dataset schema.")
        if not fields[column.upper()].numeric:
            raise InvalidInputException(
                f"Metric {metric['metricName']}: SUM needs a numeric column; {column} "
                "is not.")


def check_output(config: dict) -> dict:
    destination = config.get("s3DataDestination")
    if destination:
        check_s3_path(destination.get("path"), "metricsOutputConfig.s3DataDestination.path")
    return config


class MetricAttributionOperations(OperationsBase):
    def _schemas(self, group_arn: str) -> dict[str, dict[str, str]]:
        return group_fields(self.registry, group_arn)

    def create_metric_attribution(self, ctx, name, datasetGroupArn, metrics,
                                  metricsOutputConfig):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        existing = self.registry.list(
            kinds.METRIC_ATTRIBUTION, ctx.arn_prefix,
            lambda d: d["datasetGroupArn"] == datasetGroupArn and not_deleted(d))
        if existing:   # AWS allows one per dataset group
            raise ResourceAlreadyExistsException(
                f"Dataset group {datasetGroupArn} already has metric attribution "
                f"{existing[0]['metricAttributionArn']}.")
        check_metrics(metrics, self._schemas(datasetGroupArn))
        doc = self.registry.create(
            kinds.METRIC_ATTRIBUTION, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "metrics": metrics,
             "metricsOutputConfig": check_output(metricsOutputConfig)})
        return {"metricAttributionArn": doc["metricAttributionArn"]}

    def describe_metric_attribution(self, ctx, metricAttributionArn):
        return {"metricAttribution": self.registry.get(kinds.METRIC_ATTRIBUTION,
                                                       metricAttributionArn)}

    def list_metric_attributions(self, ctx, datasetGroupArn=None, nextToken=None,
                                 maxResults=None):
        return self._list_in(kinds.METRIC_ATTRIBUTION, ctx, "metricAttributions", nextToken,
                             maxResults, "datasetGroupArn", datasetGroupArn, skip_deleted=True)

    def list_metric_attribution_metrics(self, ctx, metricAttributionArn=None,
                                        nextToken=None, maxResults=None):
        if metricAttributionArn is None:
            raise InvalidInputException("metricAttributionArn is required.")
        doc = self.registry.get(kinds.METRIC_ATTRIBUTION, metricAttributionArn)
        chunk, token = page(doc["metrics"], nextToken, maxResults)
        return {"metrics": chunk, "nextToken": token}

    def update_metric_attribution(self, ctx, metricAttributionArn=None, addMetrics=None,
                                  removeMetrics=None, metricsOutputConfig=None):
        if metricAttributionArn is None:
            raise InvalidInputException("metricAttributionArn is required.")
        doc = self.registry.get(kinds.METRIC_ATTRIBUTION, metricAttributionArn)
        if doc["status"] != ACTIVE:
            raise ResourceInUseException(
                f"Metric attribution {metricAttributionArn} is {doc['status']}, not ACTIVE.")
        removed = set(removeMetrics or [])
        unknown = removed - {m["metricName"] for m in doc["metrics"]}
        if unknown:
            raise InvalidInputException(
                f"removeMetrics names unknown metrics: {', '.join(sorted(unknown))}.")
        metrics = [m for m in doc["metrics"] if m["metricName"] not in removed]
        metrics += addMetrics or []
        check_metrics(metrics, self._schemas(doc["datasetGroupArn"]))
        output = check_output(metricsOutputConfig) if metricsOutputConfig else None

        def apply(current):
            current["metrics"] = metrics
            if output is not None:
                current["metricsOutputConfig"] = output
            self.registry.settle_later(current, UPDATE_PENDING)
        self.registry.update(kinds.METRIC_ATTRIBUTION, metricAttributionArn, apply)
        return {"metricAttributionArn": metricAttributionArn}

    def delete_metric_attribution(self, ctx, metricAttributionArn):
        self.registry.get(kinds.METRIC_ATTRIBUTION, metricAttributionArn)
        self.registry.delete(kinds.METRIC_ATTRIBUTION, metricAttributionArn)
