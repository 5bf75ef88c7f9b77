"""The deployed stages are closed by default (issue 13): the Lambda verifies SigV4 against
keys kept in Secrets Manager (here moto's), refuses to start without keys, and picks up
a rotated key without a redeploy. Driven through app.py with API Gateway proxy events
signed by botocore for the stage's URL (the path the client signed keeps /api)."""
from __future__ import annotations

import copy
import json

import boto3
import pytest
from chalice.test import LambdaContext

from infra.deploy_localstack import ACCESS_KEYS_SECRET, ensure_access_keys
from tests.deploy.conftest import load_event
from tests.reliability.signing import signed_headers

HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"


def secrets_client(moto_server):
    return boto3.client("secretsmanager", endpoint_url=moto_server.endpoint_url,
                        region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


def signed_event(key: str | None, secret: str | None) -> dict:
    """ListDatasetGroups as API Gateway hands it to the Lambda, signed for /api/."""
    event = copy.deepcopy(load_event("personalize_list_dataset_groups.json"))
    headers = {"Host": HOST, "Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "AmazonPersonalize.ListDatasetGroups"}
    if key is not None:
        headers = signed_headers("POST", f"https://{HOST}/api/", event["body"].encode(),
                                 headers, key=key, secret=secret)
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return event


def status_and_code(chalice_app, event) -> tuple[int, str | None]:
    result = chalice_app.app(event, LambdaContext("api_handler", 3008))
    body = json.loads(result["body"])
    return result["statusCode"], body.get("__type")


@pytest.fixture
def closed_stage(chalice_app, monkeypatch, moto_server):
    secrets = secrets_client(moto_server)
    try:
        secrets.delete_secret(SecretId=ACCESS_KEYS_SECRET, ForceDeleteWithoutRecovery=True)
    except secrets.exceptions.ResourceNotFoundException:
        pass
    key = ensure_access_keys(secrets, "123456789012")
    secret = json.loads(secrets.get_secret_value(SecretId=ACCESS_KEYS_SECRET)[
        "SecretString"])["secretAccessKey"]
    for name, value in {"PERSONALIZE_REQUIRE_ACCESS_KEYS": "true",
                        "PERSONALIZE_ACCESS_KEYS_SECRET_ID": ACCESS_KEYS_SECRET,
                        "PERSONALIZE_ACCESS_KEYS_REFRESH_SECONDS": "0",
                        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server.endpoint_url,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    return chalice_app, secrets, key, secret


def test_the_stage_refuses_to_serve_without_keys(chalice_app, monkeypatch, caplog):
    monkeypatch.setenv("PERSONALIZE_REQUIRE_ACCESS_KEYS", "true")
    monkeypatch.delenv("PERSONALIZE_ACCESS_KEYS", raising=False)
    for key in ("AKID", None):   # signed or not, nothing is served
        assert status_and_code(chalice_app, signed_event(key, "x")) == (
            503, "ServiceUnavailableException")


def test_the_lambda_verifies_signatures_against_the_secret(closed_stage):
    chalice_app, _, key, secret = closed_stage
    assert status_and_code(chalice_app, signed_event(key, secret)) == (200, None)
    assert status_and_code(chalice_app, signed_event(key, "guessed")) == (
        403, "InvalidSignatureException")
    assert status_and_code(chalice_app, signed_event("AKIDNOBODY", "x")) == (
        403, "UnrecognizedClientException")
    assert status_and_code(chalice_app, signed_event(None, None)) == (
        403, "MissingAuthenticationTokenException")


def test_a_rotated_key_takes_effect_without_a_redeploy(closed_stage):
    chalice_app, secrets, key, secret = closed_stage
    assert status_and_code(chalice_app, signed_event(key, secret))[0] == 200
    secrets.put_secret_value(SecretId=ACCESS_KEYS_SECRET, SecretString=json.dumps([
        {"accessKeyId": "AKIDROTATED", "secretAccessKey": "new-secret",
         "accountId": "123456789012"}]))
    assert status_and_code(chalice_app, signed_event("AKIDROTATED", "new-secret"))[0] == 200
    assert status_and_code(chalice_app, signed_event(key, secret)) == (
        403, "UnrecognizedClientException")
