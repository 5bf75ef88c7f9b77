"""Filters: expressions checked at creation (syntax, then fields against the dataset
group's schemas, as AWS checks them), applied at serving time."""
from __future__ import annotations

from chalicelib.datasets.reader import group_fields
from chalicelib.datasets.schema import Field
from chalicelib.errors import InvalidInputException
from chalicelib.filters import parse_filter
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase


def unfilterable(field: Field) -> str | None:
    """'textual' or 'boolean' for the fields AWS refuses in filters, else None."""
    if field.textual:
        return "textual"
    return "boolean" if field.avro_type == "boolean" else None


def check_filter_fields(flt, datasets: dict[str, dict[str, Field]]) -> None:
    """Every field the expression reads must exist in the dataset it names; AWS refuses
    textual and boolean fields, and interactions may only be filtered by event type."""
    for dataset, fields in sorted(flt.dataset_fields().items()):
        schema = datasets.get(dataset)
        if schema is None:
            raise InvalidInputException(
                f"The filter expression uses the {dataset} dataset, but the dataset group "
                f"has no {dataset} dataset.")
        for name in sorted(fields):
            if name not in schema:
                raise InvalidInputException(
                    f"Field {name} in the filter expression does not exist in the "
                    f"{dataset} dataset schema.")
            if dataset in ("Interactions", "Action_Interactions") and name != "EVENT_TYPE":
                raise InvalidInputException(
                    f"Filters on {dataset} data can only use the EVENT_TYPE field, "
                    f"not {name}.")
            unusable = unfilterable(schema[name])
            if unusable:
                raise InvalidInputException(
                    f"Field {dataset}.{name} is {unusable}: filters cannot use "
                    f"{unusable} fields.")


class FilterOperations(OperationsBase):
    def create_filter(self, ctx, name, datasetGroupArn, filterExpression, tags=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        flt = parse_filter(filterExpression)  # InvalidInputException with the parser's message
        check_filter_fields(flt, group_fields(self.registry, datasetGroupArn))
        doc = self.registry.create(
            kinds.FILTER, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "filterExpression": filterExpression},
            tags=tags)
        return {"filterArn": doc["filterArn"]}

    def describe_filter(self, ctx, filterArn):
        return {"filter": self.registry.get(kinds.FILTER, filterArn)}

    def list_filters(self, ctx, datasetGroupArn=None, nextToken=None, maxResults=None):
        return self._list_in(kinds.FILTER, ctx, "Filters", nextToken, maxResults,
                             "datasetGroupArn", datasetGroupArn, skip_deleted=True)

    def delete_filter(self, ctx, filterArn):
        self.registry.get(kinds.FILTER, filterArn)
        self.registry.delete(kinds.FILTER, filterArn)
