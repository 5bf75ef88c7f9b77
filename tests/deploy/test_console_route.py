"""The console in the Chalice app: routed, rendered from the same gateway, and its links
keep the API Gateway stage in front of /console."""
from __future__ import annotations

from chalice.test import LambdaContext

from chalicelib.wire.gateway import RequestContext
from chalicelib.wire.service_models import operation_model


def _create_group(chalice_app, name: str) -> None:
    gateway, _ = chalice_app.built()
    gateway.invoke(RequestContext("personalize", "CreateDatasetGroup", "000000000000",
                                  "us-east-1"),
                   operation_model("personalize", "CreateDatasetGroup"), {"name": name})


def test_console_pages_through_the_test_client(local_client, chalice_app):
    _create_group(chalice_app, "chalice-console")
    response = local_client.http.get("/console")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    body = response.body.decode()
    assert "chalice-console" in body and 'href="/console/dataset-group?arn=' in body
    missing = local_client.http.get("/console/dataset-group?arn=arn:aws:personalize:"
                                    "us-east-1:000000000000:dataset-group/nope")
    assert missing.status_code == 404 and b"ResourceNotFoundException" in missing.body


def test_console_links_keep_the_stage(chalice_app):
    _create_group(chalice_app, "staged-console")
    event = {"resource": "/console", "path": "/console", "httpMethod": "GET",
             "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com",
                         "X-Forwarded-Proto": "https"},
             "multiValueHeaders": {}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": None,
             "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": "/console", "path": "/api/console",
                                "httpMethod": "GET", "stage": "api",
                                "requestId": "test", "identity": {"sourceIp": "203.0.113.1"}}}
    result = chalice_app.app(event, LambdaContext("api_handler", 3008))
    assert result["statusCode"] == 200, result["body"]
    assert 'href="/api/console/dataset-group?arn=' in result["body"]
    assert 'href="/console/' not in result["body"]
