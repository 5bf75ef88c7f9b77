"""Issue 13 point 6 at the serializer: no response carries a NaN or Infinity token, which
no JSON parser (boto3's included) accepts; a non-finite number is left out instead."""
from __future__ import annotations

import json
import math

from chalicelib.wire.serializer import serialize_result
from chalicelib.wire.service_models import service_model


def _operation(service, name):
    return service_model(service).operation_model(name)


def test_non_finite_scores_are_left_out_of_recommendations():
    result = {"itemList": [{"itemId": "a", "score": 0.5}, {"itemId": "b", "score": math.nan},
                           {"itemId": "c", "score": math.inf}], "recommendationId": "r"}
    response = serialize_result("personalize-runtime",
                                _operation("personalize-runtime", "GetRecommendations"),
                                result, "id")
    body = json.loads(response.body, parse_constant=lambda token: 1 / 0)
    assert body["itemList"] == [{"itemId": "a", "score": 0.5}, {"itemId": "b"},
                                {"itemId": "c"}]


def test_non_finite_metrics_are_left_out():
    response = serialize_result("personalize", _operation("personalize", "GetSolutionMetrics"),
                                {"solutionVersionArn": "arn", "metrics": {
                                    "coverage": 0.25, "precision_at_5": -math.inf,
                                    "mean_reciprocal_rank_at_25": math.nan}}, "id")
    body = json.loads(response.body, parse_constant=lambda token: 1 / 0)
    assert body["metrics"] == {"coverage": 0.25}
