"""What infra/deploy_localstack.sh runs: create the LocalStack stage's bucket, EventBridge
rule, DynamoDB table and access-key secret through boto3 (no awslocal, no Docker needed).
The stage verifies SigV4 like the aws stage: the secret gets one generated key unless it
holds keys already.

Names match .chalice/config.json's `localstack` stage and Chalice's function naming
(<app>-<stage>-<function>), so a Lambda deployed later with Docker is the rule's target.
"""
from __future__ import annotations

import argparse
import json
import os
from secrets import token_hex, token_urlsafe

import boto3
from botocore.exceptions import ClientError

from chalicelib.storage.dynamodb import create_table
from chalicelib.wire.keyring import parse_keys

APP, STAGE = "personalize", "localstack"
SCHEDULED_HANDLER = "automatic_updates"   # app.py's @app.schedule function
RULE_NAME = f"{APP}-{STAGE}-automatic-updates"
SCHEDULE = "rate(2 hours)"                # AWS's automatic-update period


def _client(service: str, endpoint: str, region: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test")


def ensure_bucket(s3, bucket: str, region: str) -> None:
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",
                                                   "BucketAlreadyExists"):
            raise


def ensure_table(dynamodb, name: str) -> None:
    try:
        create_table(dynamodb, name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise


def ensure_schedule(events, region: str, account: str) -> str:
    function_arn = (f"arn:aws:lambda:{region}:{account}:function:"
                    f"{APP}-{STAGE}-{SCHEDULED_HANDLER}")
    rule_arn = events.put_rule(Name=RULE_NAME, ScheduleExpression=SCHEDULE, State="ENABLED",
                               Description="Personalize automatic updates")["RuleArn"]
    events.put_targets(Rule=RULE_NAME, Targets=[{"Id": SCHEDULED_HANDLER,
                                                 "Arn": function_arn}])
    return rule_arn


ACCESS_KEYS_SECRET = "personalize/access-keys"   # the localstack stage's secret id


def ensure_access_keys(secrets, account: str) -> str:
    """The secret of accepted keys; created with one generated key if absent. Returns the
    key id of its first key (its secret: `get-secret-value`)."""
    try:
        text = secrets.get_secret_value(SecretId=ACCESS_KEYS_SECRET)["SecretString"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        text = json.dumps({"accessKeyId": "PERSONALIZELOCAL" + token_hex(4).upper(),
                           "secretAccessKey": token_urlsafe(30), "accountId": account})
        secrets.create_secret(Name=ACCESS_KEYS_SECRET, SecretString=text)
    return next(iter(parse_keys(text, ACCESS_KEYS_SECRET)))


def deploy(endpoint: str, dynamodb_endpoint: str, region: str, bucket: str, table: str,
           account: str, secrets_endpoint: str | None = None) -> dict:
    access_key = ensure_access_keys(_client("secretsmanager", secrets_endpoint or endpoint,
                                            region), account)
    ensure_bucket(_client("s3", endpoint, region), bucket, region)
    rule_arn = ensure_schedule(_client("events", endpoint, region), region, account)
    dynamodb = boto3.resource("dynamodb", endpoint_url=dynamodb_endpoint, region_name=region,
                              aws_access_key_id="test", aws_secret_access_key="test")
    ensure_table(dynamodb, table)
    return {"bucket": bucket, "rule": rule_arn, "table": table,
            "dynamodb_endpoint_url": dynamodb_endpoint,
            "access_keys_secret": ACCESS_KEYS_SECRET, "access_key_id": access_key}


def main(argv=None) -> None:
    env = os.environ
    endpoint = env.get("LOCALSTACK_ENDPOINT_URL", "http://localhost:4566")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", default=endpoint)
    parser.add_argument("--dynamodb-endpoint-url",
                        default=env.get("DYNAMODB_ENDPOINT_URL", endpoint))
    parser.add_argument("--region", default=env.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--bucket", default=env.get("PERSONALIZE_ARTIFACT_BUCKET",
                                                    "personalize-artifacts"))
    parser.add_argument("--secrets-endpoint-url",
                        default=env.get("SECRETS_ENDPOINT_URL", endpoint))
    parser.add_argument("--table", default=env.get("PERSONALIZE_DYNAMODB_TABLE", "personalize"))
    parser.add_argument("--account", default=env.get("PERSONALIZE_ACCOUNT_ID", "000000000000"))
    args = parser.parse_args(argv)
    print(json.dumps(deploy(args.endpoint_url, args.dynamodb_endpoint_url, args.region,
                            args.bucket, args.table, args.account,
                            args.secrets_endpoint_url), indent=2))


if __name__ == "__main__":
    main()
