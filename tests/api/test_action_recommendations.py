"""GetActionRecommendations as AWS answers it for campaigns of other recipe types, and
PutActionInteractions: validated, and stored (seen by a PUT dataset export)."""
import csv
import io
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import ROLE, build_group, code, train
from tests.conftest import wait_for

ACTION_INTERACTIONS_SCHEMA = {
    "type": "record", "name": "ActionInteractions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
               {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
    "version": "1.0"}


@pytest.fixture(scope="module")
def setup(personalize, s3):
    built = build_group(personalize, s3, "actions")
    schema = personalize.create_schema(name="actions-ai", schema=json.dumps(
        ACTION_INTERACTIONS_SCHEMA))["schemaArn"]
    dataset = personalize.create_dataset(
        name="actions-ai", schemaArn=schema, datasetGroupArn=built["group"],
        datasetType="Action_Interactions")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=dataset), ["dataset", "status"])
    tracker = personalize.create_event_tracker(name="actions", datasetGroupArn=built["group"])
    return {**built, "actionInteractions": dataset, "trackingId": tracker["trackingId"]}


def test_not_an_actions_campaign(personalize, runtime, setup):
    _, version = train(personalize, setup["group"], "actions-popular", "aws-popularity-count")
    campaign = personalize.create_campaign(name="actions-popular",
                                           solutionVersionArn=version)["campaignArn"]
    wait_for(lambda: personalize.describe_campaign(campaignArn=campaign),
             ["campaign", "status"])
    with pytest.raises(ClientError) as error:
        runtime.get_action_recommendations(campaignArn=campaign, userId="u1")
    assert code(error.value) == "InvalidInputException"
    with pytest.raises(ClientError) as error:
        runtime.get_action_recommendations(
            campaignArn=campaign.replace("actions-popular", "none"), userId="u1")
    assert code(error.value) == "ResourceNotFoundException"


def test_put_action_interactions(personalize, events, s3, setup):
    events.put_action_interactions(trackingId=setup["trackingId"], actionInteractions=[
        {"actionId": "a1", "userId": "u1", "sessionId": "s1", "timestamp": 1_800_000_000,
         "eventType": "Taken"},
        {"actionId": "a2", "userId": "u1", "sessionId": "s1", "timestamp": 1_800_000_001,
         "eventType": "Viewed"}])
    with pytest.raises(ClientError) as error:
        events.put_action_interactions(trackingId=setup["trackingId"], actionInteractions=[
            {"actionId": "a1", "userId": "u1", "sessionId": "s1",
             "timestamp": time.time(), "eventType": "Clicked"}])
    assert code(error.value) == "InvalidInputException"
    arn = personalize.create_dataset_export_job(
        jobName="actions-put", datasetArn=setup["actionInteractions"], roleArn=ROLE,
        jobOutput={"s3DataDestination": {"path": f"s3://{setup['bucket']}/exports/"}}
    )["datasetExportJobArn"]
    assert wait_for(lambda: personalize.describe_dataset_export_job(
        datasetExportJobArn=arn), ["datasetExportJob", "status"]) == "ACTIVE"
    body = s3.get_object(Bucket=setup["bucket"],
                         Key="exports/actions-put/part-00000.csv")["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["USER_ID"], r["ACTION_ID"], r["EVENT_TYPE"]) for r in rows] == [
        ("u1", "a1", "Taken"), ("u1", "a2", "Viewed")]
