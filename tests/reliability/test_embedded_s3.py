"""The embedded S3 as a hostile tenant sees it (issue 13, points 2 and 3): buckets belong
to the account that created them, another account is refused (403 AccessDenied) and
lists only its own; an import cannot read another account's bucket either; and every
acknowledged write survives kill -9 of the server, so an interrupted import resumes."""
from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.conftest import Endpoint, wait_for
from tests.reliability.flows import (big_interactions, interactions_import, keyed_endpoint, poll,
                                     restart)

KEYS = "AKIDONE:one-secret:111111111111,AKIDTWO:two-secret:222222222222"
SECRETS = {"AKIDONE": "one-secret", "AKIDTWO": "two-secret"}


def client(endpoint, service, key):
    return boto3.client(service, endpoint_url=endpoint.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=SECRETS[key],
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from keyed_endpoint(tmp_path_factory.mktemp("s3-owners"), KEYS)


def status_of(error: ClientError) -> int:
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_another_account_cannot_list_read_or_overwrite_a_bucket(server):
    one, two = client(server, "s3", "AKIDONE"), client(server, "s3", "AKIDTWO")
    one.create_bucket(Bucket="one-training-data")
    one.put_object(Bucket="one-training-data", Key="interactions.csv", Body=b"secret rows")
    assert "one-training-data" in [b["Name"] for b in one.list_buckets()["Buckets"]]
    assert "one-training-data" not in [b["Name"] for b in two.list_buckets()["Buckets"]]
    attempts = {
        "get": lambda: two.get_object(Bucket="one-training-data", Key="interactions.csv"),
        "put": lambda: two.put_object(Bucket="one-training-data", Key="interactions.csv",
                                      Body=b"poisoned"),
        "list": lambda: two.list_objects_v2(Bucket="one-training-data"),
        "delete": lambda: two.delete_object(Bucket="one-training-data",
                                            Key="interactions.csv"),
        "head": lambda: two.head_object(Bucket="one-training-data", Key="interactions.csv"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(ClientError) as refused:
            attempt()
        assert status_of(refused.value) == 403, what
        if what != "head":  # HEAD answers have no body to name the code
            assert code(refused.value) == "AccessDenied", what
    with pytest.raises(ClientError) as taken:
        two.create_bucket(Bucket="one-training-data")
    assert code(taken.value) == "BucketAlreadyExists"
    assert one.get_object(Bucket="one-training-data",
                          Key="interactions.csv")["Body"].read() == b"secret rows"


def test_an_import_cannot_read_another_accounts_bucket(server):
    one = client(server, "s3", "AKIDONE")
    one.create_bucket(Bucket="one-private-import")
    one.put_object(Bucket="one-private-import", Key="i.csv",
                   Body=b"USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1700000000\n")
    personalize = client(server, "personalize", "AKIDTWO")
    job = interactions_import(personalize, "steal", "s3://one-private-import/i.csv")["job"]
    describe = lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job)
    assert wait_for(describe, ["datasetImportJob", "status"]) == "CREATE FAILED"
    assert "Access denied" in describe()["datasetImportJob"]["failureReason"]


def test_acknowledged_objects_survive_kill_9(tmp_path):
    endpoint = Endpoint(tmp_path, {"PERSONALIZE_ACCESS_KEYS": KEYS}).start()
    try:
        s3 = client(endpoint, "s3", "AKIDONE")
        s3.create_bucket(Bucket="durable")
        written = {f"part-{k}.csv": f"row {k}\n".encode() * (k + 1) for k in range(20)}
        etags = {key: s3.put_object(Bucket="durable", Key=key, Body=body,
                                    Metadata={"n": key})["ETag"]
                 for key, body in written.items()}
        s3.delete_object(Bucket="durable", Key="part-0.csv")
        del written["part-0.csv"]
        endpoint = restart(endpoint)      # kill -9, then the same data folder
        s3 = client(endpoint, "s3", "AKIDONE")
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]]
        assert sorted(listed) == sorted(written)
        for key, body in written.items():
            got = s3.get_object(Bucket="durable", Key=key)
            assert got["Body"].read() == body and got["Metadata"] == {"n": key}
            assert got["ETag"] == etags[key]
        # ownership survives too
        with pytest.raises(ClientError) as refused:
            client(endpoint, "s3", "AKIDTWO").list_objects_v2(Bucket="durable")
        assert code(refused.value) == "AccessDenied"
        s3.delete_objects(Bucket="durable", Delete={"Objects": [{"Key": k} for k in written]})
        s3.delete_bucket(Bucket="durable")
        endpoint = restart(endpoint)
        assert "durable" not in [b["Name"] for b in
                                 client(endpoint, "s3", "AKIDONE").list_buckets()["Buckets"]]
    finally:
        endpoint.stop()


def test_an_import_interrupted_by_kill_9_resumes_from_the_embedded_s3(tmp_path):
    rows = 300_000
    endpoint = Endpoint(tmp_path).start()   # open mode, the embedded S3
    try:
        s3 = endpoint.client("s3")
        s3.create_bucket(Bucket="resume")
        s3.put_object(Bucket="resume", Key="big.csv", Body=big_interactions(rows))
        job = interactions_import(endpoint.client("personalize"), "resume",
                                  "s3://resume/big.csv")["job"]
        folder = tmp_path / "artifacts" / "datasets"
        poll(lambda: any(p.stat().st_size > 500_000 for p in folder.rglob("*.partial")),
             what="the import to be half-way")
        endpoint = restart(endpoint)
        personalize = endpoint.client("personalize")
        describe = lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job)
        assert wait_for(describe, ["datasetImportJob", "status"], timeout=180) == "ACTIVE", \
            describe()
        imported = list(folder.rglob("*.csv"))
        assert len(imported) == 1
        with open(imported[0]) as handle:
            assert sum(1 for _ in handle) == rows + 1
    finally:
        endpoint.stop()
