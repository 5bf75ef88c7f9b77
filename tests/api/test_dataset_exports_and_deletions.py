"""Dataset export jobs (BULK / PUT / ALL to CSV in S3) and data deletion jobs (the users'
imported rows, live events and records go; training afterwards no longer sees them)."""
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from chalicelib.models.data import TrainingData
from chalicelib.training.evaluation import metrics_split
from tests.api.builders import (ROLE, build_group, code, csv_bytes, export, failed_deletion,
                                train)
from tests.conftest import wait_for


@pytest.fixture(scope="module")
def setup(personalize, s3, events):
    built = build_group(personalize, s3, "export")
    tracker = personalize.create_event_tracker(name="export", datasetGroupArn=built["group"])
    events.put_events(trackingId=tracker["trackingId"], userId="u1", sessionId="s1",
                      eventList=[{"eventType": "click", "itemId": "i7",
                                  "sentAt": 1_800_000_000}])
    events.put_events(trackingId=tracker["trackingId"], userId="u2", sessionId="s2",
                      eventList=[{"eventType": "click", "itemId": "i8",
                                  "sentAt": 1_800_000_001}])
    return built


def test_export_modes(personalize, s3, setup):
    arn, job, put_rows = export(personalize, s3, setup, "put")
    assert job["ingestionMode"] == "PUT"   # AWS's default
    assert [(r["USER_ID"], r["ITEM_ID"], r["TIMESTAMP"]) for r in put_rows] == [
        ("u1", "i7", "1800000000"), ("u2", "i8", "1800000001")]
    _, _, bulk = export(personalize, s3, setup, "bulk", "BULK")
    assert len(bulk) == 1200 and set(bulk[0]) == {"USER_ID", "ITEM_ID", "EVENT_TYPE",
                                                   "TIMESTAMP", "EVENT_VALUE"}
    _, _, everything = export(personalize, s3, setup, "all", "ALL")
    assert len(everything) == 1202
    listed = personalize.list_dataset_export_jobs(datasetArn=setup["Interactions"])
    assert len(listed["datasetExportJobs"]) == 3
    assert arn in {j["datasetExportJobArn"] for j in listed["datasetExportJobs"]}


def test_export_needs_an_s3_path(personalize, setup):
    with pytest.raises(ClientError) as error:
        personalize.create_dataset_export_job(
            jobName="bad", datasetArn=setup["Interactions"], roleArn=ROLE,
            jobOutput={"s3DataDestination": {"path": "/tmp/out"}})
    assert code(error.value) == "InvalidInputException"


def test_data_deletion_then_training(personalize, s3, runtime, setup):
    bucket, group = setup["bucket"], setup["group"]
    s3.put_object(Bucket=bucket, Key="delete/users.csv",
                  Body=csv_bytes(["USER_ID"], [("u1",), ("u3",)]))
    arn = personalize.create_data_deletion_job(
        jobName="forget", datasetGroupArn=group, roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/delete/users.csv"})["dataDeletionJobArn"]
    status = wait_for(lambda: personalize.describe_data_deletion_job(
        dataDeletionJobArn=arn), ["dataDeletionJob", "status"], done=("COMPLETED", "FAILED"),
        timeout=60)
    job = personalize.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]
    assert status == "COMPLETED", job.get("failureReason")
    _, _, remaining = export(personalize, s3, setup, "after-deletion", "ALL")
    assert job["numDeleted"] == 1202 - len(remaining) > 1
    assert not {"u1", "u3"} & {r["USER_ID"] for r in remaining}
    assert "u2" in {r["USER_ID"] for r in remaining}
    listed = personalize.list_data_deletion_jobs(datasetGroupArn=group)["dataDeletionJobs"]
    assert [j["dataDeletionJobArn"] for j in listed] == [arn]
    # A model trained now counts only what is left: popularity scores are count / max,
    # over the users the version trains on (the metrics' test users, AWS's 10%, leave the
    # training set: the same seeded split, recomputed here from what is left).
    left = TrainingData.from_interactions([r["USER_ID"] for r in remaining],
                                          [r["ITEM_ID"] for r in remaining],
                                          [float(r["TIMESTAMP"]) for r in remaining])
    trained_on = metrics_split("USER_PERSONALIZATION", left).train.interactions
    counts = Counter(trained_on.columns["ITEM_ID"].tolist())
    assert sum(counts.values()) < len(remaining)  # the test users' events are not counted
    _, version = train(personalize, group, "after-deletion", "aws-popularity-count")
    campaign = personalize.create_campaign(name="after-deletion",
                                           solutionVersionArn=version)["campaignArn"]
    wait_for(lambda: personalize.describe_campaign(campaignArn=campaign),
             ["campaign", "status"])
    scores = {i["itemId"]: i["score"] for i in runtime.get_recommendations(
        campaignArn=campaign, userId="u1", numResults=500)["itemList"]}
    top = max(counts.values())
    assert scores == pytest.approx({item: n / top for item, n in counts.items()}, abs=1e-5)


def test_deletion_file_needs_user_id(personalize, s3, setup):
    reason = failed_deletion(personalize, s3, setup, "bad-file", b"ITEM_ID\ni1\n")
    assert "USER_ID" in reason
