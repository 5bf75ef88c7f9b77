"""Bad data through S3 imports of the real server: each job ends CREATE FAILED with a
failureReason naming the problem, and the server keeps answering meanwhile."""
from __future__ import annotations

import json
import time

import pytest

from tests.api.builders import INTERACTIONS_SCHEMA, ROLE, ready
from tests.conftest import wait_for
from tests.reliability.hostile import PYTHON_TEXT

HEADER = b"USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n"
GOOD_ROW = b"u1,i1,click,1700000000,1.0\n"

# name -> (file bytes, words the failureReason must contain, case-insensitive)
BAD_FILES = {
    "missing-column": (b"USER_ID,EVENT_TYPE,TIMESTAMP\nu1,click,1700000000\n", ["ITEM_ID"]),
    "wrong-type": (HEADER + GOOD_ROW + b"u2,i2,click,1700000001,lots\n",
                   ["line 3", "EVENT_VALUE", "float"]),
    "bad-timestamp-text": (HEADER + b"u1,i1,click,2024-01-01T00:00:00,1.0\n",
                           ["TIMESTAMP", "epoch"]),
    "bad-timestamp-millis": (HEADER + b"u1,i1,click,1700000000000,1.0\n",
                             ["TIMESTAMP", "milliseconds"]),
    "duplicate-header": (b"USER_ID,ITEM_ID,ITEM_ID,TIMESTAMP\nu1,i1,i2,1700000000\n",
                         ["ITEM_ID", "more than once"]),
    "empty-file": (b"", ["empty"]),
    "header-only": (HEADER, ["no data rows"]),
    "not-utf8": (HEADER + "u1,caf\u00e9,click,1700000000,1.0\n".encode("latin-1"),
                 ["line 2", "UTF-8"]),
    "ragged-row": (HEADER + b"u1,i1,click,1700000000,1.0,extra\n", ["line 2", "expected 5"]),
    "unclosed-quote": (HEADER + b'u1,"i1,click,1700000000,1.0\n', ["malformed"]),
    "missing-required-value": (HEADER + b",i1,click,1700000000,1.0\n",
                               ["USER_ID", "required"]),
    # issue 13 point 6: non-finite numbers never reach a model
    "nan-value": (HEADER + GOOD_ROW + b"u2,i2,click,1700000001,NaN\n",
                  ["line 3", "EVENT_VALUE", "'NaN'"]),
    "infinite-value": (HEADER + b"u2,i2,click,1700000001,-inf\n", ["line 2", "EVENT_VALUE"]),
    "overflowing-value": (HEADER + b"u2,i2,click,1700000001,1e400\n",
                          ["line 2", "EVENT_VALUE"]),
    "nan-timestamp": (HEADER + b"u2,i2,click,nan,1.0\n", ["line 2", "TIMESTAMP"]),
}


@pytest.fixture(scope="module")
def dataset(personalize, s3):
    s3.create_bucket(Bucket="reliability-bad-data")
    for name, (body, _) in BAD_FILES.items():
        s3.put_object(Bucket="reliability-bad-data", Key=f"{name}.csv", Body=body)
    schema = personalize.create_schema(name="reliability-bad-data",
                                       schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    group = personalize.create_dataset_group(name="reliability-bad-data")["datasetGroupArn"]
    ready(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
          ["datasetGroup", "status"])
    arn = personalize.create_dataset(name="reliability-bad-data", schemaArn=schema,
                                     datasetGroupArn=group,
                                     datasetType="Interactions")["datasetArn"]
    ready(lambda: personalize.describe_dataset(datasetArn=arn), ["dataset", "status"])
    return arn


def start_import(personalize, dataset, name, location):
    return personalize.create_dataset_import_job(
        jobName=f"bad-{name}", datasetArn=dataset, roleArn=ROLE,
        dataSource={"dataLocation": location})["datasetImportJobArn"]


def test_bad_files_fail_with_a_reason_and_the_server_stays_responsive(personalize, dataset):
    jobs = {name: start_import(personalize, dataset, name,
                               f"s3://reliability-bad-data/{name}.csv")
            for name in BAD_FILES}
    jobs["no-such-object"] = start_import(personalize, dataset, "no-such-object",
                                          "s3://reliability-bad-data/nothing-here.csv")
    jobs["no-such-bucket"] = start_import(personalize, dataset, "no-such-bucket",
                                          "s3://reliability-no-bucket/x.csv")
    expected = {**{n: words for n, (_, words) in BAD_FILES.items()},
                "no-such-object": ["nothing-here.csv"], "no-such-bucket": ["reliability-no-bucket"]}
    wrong = []
    for name, arn in jobs.items():
        started = time.perf_counter()
        personalize.list_dataset_groups()   # answers while imports run
        assert time.perf_counter() - started < 5
        describe = lambda: personalize.describe_dataset_import_job(datasetImportJobArn=arn)
        status = wait_for(describe, ["datasetImportJob", "status"], timeout=60)
        reason = describe()["datasetImportJob"].get("failureReason", "")
        if status != "CREATE FAILED" or not all(w.lower() in reason.lower()
                                                for w in expected[name]) \
                or PYTHON_TEXT.search(reason):
            wrong.append(f"{name}: {status} {reason!r}")
    assert not wrong, "\n".join(wrong)
    print(f"\nbad imports: {len(jobs)} faulty sources, all CREATE FAILED with a reason")
