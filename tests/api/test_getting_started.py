"""The getting-started workflow on MovieLens 100K, exactly as a Personalize user writes it
(only endpoint_url differs): import from S3, train, deploy, recommend, stream events, and
delete everything in dependency order."""
import csv
import io
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SHARED_DATA, wait_for

INTERACTIONS_SCHEMA = {
    "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
               {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],
    "version": "1.0"}


def movielens_csv(max_user: int | None = None) -> bytes:
    """ML-100K's ratings as watch events (users up to max_user only, when given)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"])
    with open(SHARED_DATA / "ml-100k" / "u.data") as source:
        for line in source:
            user, item, rating, when = line.split("\t")
            if max_user is None or int(user) <= max_user:
                writer.writerow([user, item, "watch", when.strip()])
    return out.getvalue().encode()


def gone(describe, **kwargs) -> bool:
    try:
        describe(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def await_gone(describe, timeout=30, **kwargs):
    deadline = time.time() + timeout
    while not gone(describe, **kwargs):
        assert time.time() < deadline, f"{kwargs} was not deleted"
        time.sleep(0.05)


@pytest.mark.timeout(900)
def test_getting_started_on_movielens(personalize, runtime, events, s3):
    getting_started_workflow(personalize, runtime, events, s3)


def getting_started_workflow(personalize, runtime, events, s3, data: bytes | None = None):
    """The workflow itself, for any four clients (tests/deploy/test_inside_localstack.py
    runs it through LocalStack's port, on a part of the data)."""
    s3.create_bucket(Bucket="getting-started")
    s3.put_object(Bucket="getting-started", Key="ml-100k/interactions.csv",
                  Body=data if data is not None else movielens_csv())

    schema_arn = personalize.create_schema(
        name="gs-interactions", schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    group_arn = personalize.create_dataset_group(name="gs-group")["datasetGroupArn"]
    assert wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn),
                    ["datasetGroup", "status"]) == "ACTIVE"
    dataset_arn = personalize.create_dataset(
        name="gs-interactions", schemaArn=schema_arn, datasetGroupArn=group_arn,
        datasetType="Interactions")["datasetArn"]
    assert wait_for(lambda: personalize.describe_dataset(datasetArn=dataset_arn),
                    ["dataset", "status"]) == "ACTIVE"

    job_arn = personalize.create_dataset_import_job(
        jobName="gs-import", datasetArn=dataset_arn,
        dataSource={"dataLocation": "s3://getting-started/ml-100k/interactions.csv"},
        roleArn="arn:aws:iam::000000000000:role/PersonalizeRole")["datasetImportJobArn"]
    job = personalize.describe_dataset_import_job(datasetImportJobArn=job_arn)
    status = wait_for(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job_arn), ["datasetImportJob", "status"])
    job = personalize.describe_dataset_import_job(datasetImportJobArn=job_arn)
    assert status == "ACTIVE", job["datasetImportJob"].get("failureReason")

    solution_arn = personalize.create_solution(
        name="gs-solution", datasetGroupArn=group_arn,
        recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
        solutionConfig={"algorithmHyperParameters": {"epochs": "2"}})["solutionArn"]
    wait_for(lambda: personalize.describe_solution(solutionArn=solution_arn),
             ["solution", "status"])
    version_arn = personalize.create_solution_version(
        solutionArn=solution_arn)["solutionVersionArn"]
    status = wait_for(lambda: personalize.describe_solution_version(
        solutionVersionArn=version_arn), ["solutionVersion", "status"], timeout=600)
    version = personalize.describe_solution_version(solutionVersionArn=version_arn)
    assert status == "ACTIVE", version["solutionVersion"].get("failureReason")
    assert personalize.describe_solution(solutionArn=solution_arn)["solution"][
        "latestSolutionVersion"]["status"] == "ACTIVE"

    metrics = personalize.get_solution_metrics(solutionVersionArn=version_arn)["metrics"]
    assert 0 < metrics["normalized_discounted_cumulative_gain_at_10"] <= 1
    assert 0 < metrics["coverage"] <= 1

    campaign_arn = personalize.create_campaign(
        name="gs-campaign", solutionVersionArn=version_arn, minProvisionedTPS=1,
        campaignConfig={"itemExplorationConfig": {"explorationWeight": "0.1",
                                                  "explorationItemAgeCutOff": "30"}}
    )["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign_arn),
                    ["campaign", "status"]) == "ACTIVE"

    first = runtime.get_recommendations(campaignArn=campaign_arn, userId="42", numResults=25)
    items = [i["itemId"] for i in first["itemList"]]
    assert len(items) == 25 and len(set(items)) == 25
    assert first["recommendationId"]
    assert all(0 <= i["score"] <= 1 for i in first["itemList"])

    tracker = personalize.create_event_tracker(name="gs-tracker", datasetGroupArn=group_arn)
    wait_for(lambda: personalize.describe_event_tracker(
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])
    watched = items[:3]
    events.put_events(trackingId=tracker["trackingId"], userId="42", sessionId="s-42",
                      eventList=[{"eventType": "watch", "itemId": item,
                                  "sentAt": time.time()} for item in watched])
    after = runtime.get_recommendations(campaignArn=campaign_arn, userId="42", numResults=25)
    after_items = [i["itemId"] for i in after["itemList"]]
    assert after_items != items
    assert not set(watched) & set(after_items)  # what was just watched is not re-offered

    personalize.delete_campaign(campaignArn=campaign_arn)
    await_gone(personalize.describe_campaign, campaignArn=campaign_arn)
    personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
    await_gone(personalize.describe_event_tracker, eventTrackerArn=tracker["eventTrackerArn"])
    personalize.delete_solution(solutionArn=solution_arn)
    await_gone(personalize.describe_solution, solutionArn=solution_arn)
    personalize.delete_dataset(datasetArn=dataset_arn)
    await_gone(personalize.describe_dataset, datasetArn=dataset_arn)
    personalize.delete_dataset_group(datasetGroupArn=group_arn)
    await_gone(personalize.describe_dataset_group, datasetGroupArn=group_arn)
    personalize.delete_schema(schemaArn=schema_arn)
    await_gone(personalize.describe_schema, schemaArn=schema_arn)
