"""Filters: expressions checked at creation, applied at serving time."""
from __future__ import annotations

from chalicelib.filters import parse_filter
from chalicelib.resources import kinds
from chalicelib.resources.base import OperationsBase, live


class FilterOperations(OperationsBase):
    def create_filter(self, ctx, name, datasetGroupArn, filterExpression, tags=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        parse_filter(filterExpression)  # InvalidInputException with the parser's message
        doc = self.registry.create(
            kinds.FILTER, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "filterExpression": filterExpression},
            tags=tags)
        return {"filterArn": doc["filterArn"]}

    def describe_filter(self, ctx, filterArn):
        return {"filter": self.registry.get(kinds.FILTER, filterArn)}

    def list_filters(self, ctx, datasetGroupArn=None, nextToken=None, maxResults=None):
        where = live if datasetGroupArn is None else (
            lambda d: d["datasetGroupArn"] == datasetGroupArn and live(d))
        return self._list(kinds.FILTER, ctx, "Filters", nextToken, maxResults, where)

    def delete_filter(self, ctx, filterArn):
        self.registry.get(kinds.FILTER, filterArn)
        self.registry.delete(kinds.FILTER, filterArn)
