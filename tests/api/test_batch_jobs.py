"""Batch inference and batch segment jobs through boto3: JSON lines from S3 in, one
answer per line out at <output path><input file name>.out, per recipe type."""
import json

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import ROLE, build_group, code, read_lines, train
from tests.conftest import wait_for

FAST = {"algorithmHyperParameters": {"epochs": "1"}}


@pytest.fixture(scope="module")
def setup(personalize, s3):
    built = build_group(personalize, s3, "batch", with_items=True)
    group, bucket = built["group"], built["bucket"]
    versions = {recipe: train(personalize, group, f"batch-{recipe}", recipe, **extra)[1]
                for recipe, extra in [("aws-popularity-count", {}), ("aws-sims", {}),
                                      ("aws-personalized-ranking", {"solutionConfig": FAST}),
                                      ("aws-item-affinity", {"solutionConfig": FAST})]}
    return {**built, "versions": versions}


def put_lines(s3, bucket, key, records):
    s3.put_object(Bucket=bucket, Key=key,
                  Body="\n".join(json.dumps(r) if isinstance(r, dict) else r
                                 for r in records).encode())


def run_inference(personalize, name, version, bucket, key, **extra):
    arn = personalize.create_batch_inference_job(
        jobName=name, solutionVersionArn=version, roleArn=ROLE,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/{key}"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/{name}/"}},
        **extra)["batchInferenceJobArn"]
    status = wait_for(lambda: personalize.describe_batch_inference_job(
        batchInferenceJobArn=arn), ["batchInferenceJob", "status"], timeout=60)
    job = personalize.describe_batch_inference_job(batchInferenceJobArn=arn)
    assert status == "ACTIVE", job["batchInferenceJob"].get("failureReason")
    return arn, job["batchInferenceJob"]


def test_user_recommendations_with_a_bad_line(personalize, s3, setup):
    bucket, version = setup["bucket"], setup["versions"]["aws-popularity-count"]
    put_lines(s3, bucket, "in/users.json", [{"userId": "u1"}, {"userId": "u2"},
                                            "not json", {"itemId": "i1"}])
    arn, job = run_inference(personalize, "users", version, bucket, "in/users.json",
                             numResults=7,
                             batchInferenceJobConfig={"itemExplorationConfig": {}})
    assert job["numResults"] == 7 and job["jobName"] == "users"
    assert job["solutionVersionArn"] == version
    lines = read_lines(s3, bucket, "out/users/users.json.out")
    assert [line["input"] for line in lines[:2]] == [{"userId": "u1"}, {"userId": "u2"}]
    first = lines[0]
    assert first["error"] is None
    assert len(first["output"]["recommendedItems"]) == 7
    assert len(first["output"]["scores"]) == 7
    assert first["output"]["scores"] == sorted(first["output"]["scores"], reverse=True)
    assert lines[2]["error"] and lines[2]["output"] == {"recommendedItems": []}   # as AWS
    assert "userId" in lines[3]["error"]
    listed = personalize.list_batch_inference_jobs(solutionVersionArn=version)
    assert [j["batchInferenceJobArn"] for j in listed["batchInferenceJobs"]] == [arn]
    assert listed["batchInferenceJobs"][0]["status"] == "ACTIVE"


def test_filter_applies_to_every_line(personalize, s3, setup):
    bucket, version = setup["bucket"], setup["versions"]["aws-popularity-count"]
    flt = personalize.create_filter(
        name="batch-comedy", datasetGroupArn=setup["group"],
        filterExpression='INCLUDE ItemID WHERE Items.GENRES IN ("Comedy")')["filterArn"]
    wait_for(lambda: personalize.describe_filter(filterArn=flt), ["filter", "status"])
    put_lines(s3, bucket, "in/filtered.json", [{"userId": "u5"}, {"userId": "u6"}])
    _, job = run_inference(personalize, "filtered", version, bucket, "in/filtered.json",
                           filterArn=flt, numResults=5)
    assert job["filterArn"] == flt
    for line in read_lines(s3, bucket, "out/filtered/filtered.json.out"):
        items = line["output"]["recommendedItems"]
        assert items and all(int(i[1:]) < 20 for i in items)   # i0..i19 are comedies


def test_related_items(personalize, s3, setup):
    bucket, version = setup["bucket"], setup["versions"]["aws-sims"]
    put_lines(s3, bucket, "in/items.json", [{"itemId": "i3"}, {"itemId": "i45"}])
    run_inference(personalize, "related", version, bucket, "in/items.json", numResults=5)
    lines = read_lines(s3, bucket, "out/related/items.json.out")
    assert [line["input"]["itemId"] for line in lines] == ["i3", "i45"]
    assert all(line["error"] is None and "i3" not in line["output"]["recommendedItems"]
               for line in lines[:1])


def test_personalized_ranking(personalize, s3, setup):
    bucket, version = setup["bucket"], setup["versions"]["aws-personalized-ranking"]
    candidates = ["i1", "i30", "i50", "i2"]
    put_lines(s3, bucket, "in/rank.json", [{"userId": "u0", "itemList": candidates}])
    run_inference(personalize, "ranking", version, bucket, "in/rank.json")
    (line,) = read_lines(s3, bucket, "out/ranking/rank.json.out")
    assert sorted(line["output"]["recommendedItems"]) == sorted(candidates)


def test_batch_segments(personalize, s3, setup):
    bucket, version = setup["bucket"], setup["versions"]["aws-item-affinity"]
    put_lines(s3, bucket, "in/segments.json", [{"itemId": "i1"}, {"itemId": "nope"}])
    arn = personalize.create_batch_segment_job(
        jobName="segments", solutionVersionArn=version, roleArn=ROLE, numResults=10,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/in/segments.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/segments/"}}
    )["batchSegmentJobArn"]
    status = wait_for(lambda: personalize.describe_batch_segment_job(
        batchSegmentJobArn=arn), ["batchSegmentJob", "status"], timeout=60)
    job = personalize.describe_batch_segment_job(batchSegmentJobArn=arn)["batchSegmentJob"]
    assert status == "ACTIVE", job.get("failureReason")
    assert job["numResults"] == 10
    first, unknown = read_lines(s3, bucket, "out/segments/segments.json.out")
    assert first["input"] == {"itemId": "i1"} and first["error"] is None
    users = first["output"]["usersList"]
    assert len(users) == 10 and len(set(users)) == 10
    assert unknown["error"]
    listed = personalize.list_batch_segment_jobs(solutionVersionArn=version)
    assert [j["batchSegmentJobArn"] for j in listed["batchSegmentJobs"]] == [arn]


def test_validation(personalize, setup):
    bucket = setup["bucket"]
    io = {"jobInput": {"s3DataSource": {"path": f"s3://{bucket}/in/users.json"}},
          "jobOutput": {"s3DataDestination": {"path": f"s3://{bucket}/out/x/"}}}
    cases = [
        ("create_batch_segment_job", setup["versions"]["aws-popularity-count"],
         "InvalidInputException"),
        ("create_batch_inference_job", setup["versions"]["aws-item-affinity"],
         "InvalidInputException"),
        ("create_batch_inference_job", setup["versions"]["aws-sims"] + "x",
         "ResourceNotFoundException"),
    ]
    for operation, version, expected in cases:
        with pytest.raises(ClientError) as error:
            getattr(personalize, operation)(jobName="bad", solutionVersionArn=version,
                                            roleArn=ROLE, **io)
        assert code(error.value) == expected, operation
    with pytest.raises(ClientError) as error:
        personalize.describe_batch_inference_job(
            batchInferenceJobArn="arn:aws:personalize:us-east-1:000000000000:"
                                 "batch-inference-job/none")
    assert code(error.value) == "ResourceNotFoundException"
