"""Issue 13 points 6 and 7 through the Lambda handler (app.py): hostile bodies are 400s
with a JSON body API Gateway can return, never a crash of the handler or of the request
log line it writes after the gateway has answered."""
from __future__ import annotations

import json

import pytest
from chalice.test import LambdaContext

from tests.deploy.conftest import load_event

BODIES = {
    "lone-surrogate-arn": (b'{"datasetGroupArn": "arn:aws:personalize:us-east-1:'
                           b'000000000000:dataset-group/\\ud800"}', "InvalidInputException"),
    "nan-token": (b'{"datasetGroupArn": NaN}', "SerializationException"),
    "not-utf8": (b'{"datasetGroupArn": "\xff\xfe"}', "SerializationException"),
    "deeply-nested": (b'{"datasetGroupArn": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                      "SerializationException"),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_hostile_bodies_through_the_lambda_handler(chalice_app, name):
    body, error = BODIES[name]
    event = load_event("personalize_describe_dataset_group_not_found.json")
    event = {**event, "body": body.decode("latin-1"), "isBase64Encoded": False}
    event["headers"] = {**event["headers"], "Content-Length": str(len(body))}
    if name == "not-utf8":   # API Gateway hands binary bodies over base64-encoded
        import base64
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    result = chalice_app.app(event, LambdaContext("api_handler", 3008))
    json.dumps(result)   # what Lambda does with it
    assert result["statusCode"] == 400, result["body"]
    assert json.loads(result["body"])["__type"] == error
