"""infra/deploy_localstack.sh against a real LocalStack (S3 and EventBridge) with the
table on moto's DynamoDB, as without Docker."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import boto3

from tests.deploy.conftest import ROOT

SCRIPT = ROOT / "infra" / "deploy_localstack.sh"


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def deploy(localstack, moto_server, bucket, table):
    env = {**os.environ, "PYTHON": sys.executable,
           "LOCALSTACK_ENDPOINT_URL": localstack.endpoint_url,
           "DYNAMODB_ENDPOINT_URL": moto_server.endpoint_url,
           "PERSONALIZE_ARTIFACT_BUCKET": bucket, "PERSONALIZE_DYNAMODB_TABLE": table,
           # host-mode LocalStack runs no Secrets Manager here: the key secret on moto
           "SECRETS_ENDPOINT_URL": moto_server.endpoint_url}
    result = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_deploy_creates_bucket_rule_and_table(localstack, moto_server):
    bucket = f"personalize-artifacts-{uuid.uuid4().hex[:8]}"
    table = f"personalize-{uuid.uuid4().hex[:8]}"
    deploy(localstack, moto_server, bucket, table)
    deploy(localstack, moto_server, bucket, table)  # idempotent: a second run is a no-op

    s3 = client("s3", localstack.endpoint_url)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    events = client("events", localstack.endpoint_url)
    rule = events.describe_rule(Name="personalize-localstack-automatic-updates")
    assert rule["ScheduleExpression"] == "rate(2 hours)"
    assert rule["State"] == "ENABLED"
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert [t["Arn"].rsplit(":", 1)[-1] for t in targets] == [
        "personalize-localstack-automatic_updates"]

    described = client("dynamodb", moto_server.endpoint_url).describe_table(
        TableName=table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]} == {
        "pk": "HASH", "sk": "RANGE"}
