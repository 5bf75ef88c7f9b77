"""Filters at serving time: which filter a request names, and the request's filter context.

Parsed filters are cached by ARN (a filter's expression never changes after creation), so
the hot path does one store read to check the filter still exists and is ACTIVE.
"""
from __future__ import annotations

import threading

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.filters import Filter, parse_filter
from chalicelib.records import kinds
from chalicelib.records.arns import arn_type


class FilterResolver:
    def __init__(self, registry):
        self.registry = registry
        self._parsed: dict[str, Filter] = {}
        self._lock = threading.Lock()

    def resolve(self, filter_arn: str, dataset_group_arn: str) -> Filter:
        if arn_type(filter_arn) != kinds.FILTER.arn_type:
            raise InvalidInputException(f"{filter_arn} is not a valid filter ARN.")
        doc = self.registry.find(kinds.FILTER, filter_arn)
        if doc is None or doc["status"] == "DELETE PENDING":
            raise ResourceNotFoundException(f"Filter {filter_arn} does not exist.")
        if doc["status"] != "ACTIVE":
            raise InvalidInputException(
                f"Filter {filter_arn} is {doc['status']}; it can be used once it is ACTIVE.")
        if doc["datasetGroupArn"] != dataset_group_arn:
            raise InvalidInputException(
                f"Filter {filter_arn} belongs to another dataset group than the campaign.")
        parsed = self._parsed.get(filter_arn)
        if parsed is None:
            parsed = parse_filter(doc["filterExpression"])
            with self._lock:
                self._parsed[filter_arn] = parsed
        return parsed
