"""Dataset import from a real LocalStack S3 (host mode), the endpoint configured with
PERSONALIZE_S3_ENDPOINT_URL as a user with LocalStack would run it."""
import json

import boto3
import pytest

from tests.conftest import Endpoint, wait_for

SCHEMA = {"type": "record", "name": "Interactions",
          "namespace": "com.amazonaws.personalize.schema",
          "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                     {"name": "TIMESTAMP", "type": "long"}], "version": "1.0"}


@pytest.fixture(scope="module")
def with_localstack(localstack, tmp_path_factory):
    server = Endpoint(tmp_path_factory.mktemp("ls-endpoint"),
                      env={"PERSONALIZE_S3_ENDPOINT_URL": localstack.endpoint_url}).start()
    yield server
    server.stop()


def _import(personalize, name, location):
    schema = personalize.create_schema(name=f"{name}-schema",
                                       schema=json.dumps(SCHEMA))["schemaArn"]
    group = personalize.create_dataset_group(name=f"{name}-group")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    dataset = personalize.create_dataset(name=f"{name}-ds", schemaArn=schema,
                                         datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=dataset), ["dataset", "status"])
    job = personalize.create_dataset_import_job(
        jobName=f"{name}-job", datasetArn=dataset, dataSource={"dataLocation": location},
        roleArn="arn:aws:iam::000000000000:role/r")["datasetImportJobArn"]
    wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
             ["datasetImportJob", "status"])
    return personalize.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]


def test_import_reads_localstack_s3(with_localstack, localstack):
    s3 = boto3.client("s3", endpoint_url=localstack.endpoint_url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket="ls-import")
    rows = "user_id,item_id,timestamp\n" + "".join(
        f"u{i % 40},i{i % 97},{1700000000 + i}\n" for i in range(1500))
    s3.put_object(Bucket="ls-import", Key="prefix/part-1.csv", Body=rows.encode())
    personalize = with_localstack.client("personalize")
    job = _import(personalize, "ls-ok", "s3://ls-import/prefix/")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    s3.delete_object(Bucket="ls-import", Key="prefix/part-1.csv")  # our copy survives it


def test_missing_object_fails_with_reason(with_localstack):
    personalize = with_localstack.client("personalize")
    job = _import(personalize, "ls-missing", "s3://ls-import/absent.csv")
    assert job["status"] == "CREATE FAILED"
    assert "absent.csv" in job["failureReason"]
