"""Who may call, and what they see: unsigned requests and unknown keys are refused as AWS
refuses them; one account's (or region's) resources are invisible to another."""
from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.conftest import wait_for
from tests.reliability.flows import event_tracker, keyed_endpoint
from tests.reliability.http import call

SECRETS = {"AKID1": "secret-one", "AKID2": "secret-two"}
KEYS = "AKID1:secret-one:111111111111,AKID2:secret-two:222222222222"
REQUESTS = [("personalize", "ListDatasetGroups", {}),
            ("personalize-runtime", "GetRecommendations",
             {"campaignArn": "arn:aws:personalize:us-east-1:111111111111:campaign/c",
              "userId": "u"}),
            ("personalize-events", "PutEvents",
             {"trackingId": "t", "sessionId": "s",
              "eventList": [{"eventType": "click", "sentAt": 1700000000}]})]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from keyed_endpoint(tmp_path_factory.mktemp("access"), KEYS)


def client(server, service, key, region="us-east-1"):
    return boto3.client(service, endpoint_url=server.url, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=SECRETS.get(key, "x"),
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize("service,operation,params", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_unsigned_requests_are_refused(server, service, operation, params):
    reply = call(server.url, service, operation, params, sign_as=None)
    assert (reply.status, reply.error_type) == (403, "MissingAuthenticationTokenException")


@pytest.mark.parametrize("service,operation,params", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_unknown_access_keys_are_refused(server, service, operation, params):
    reply = call(server.url, service, operation, params, access_key="AKIDNOBODY")
    assert (reply.status, reply.error_type) == (403, "UnrecognizedClientException")
    with pytest.raises(ClientError) as refused:
        client(server, "personalize", "AKIDNOBODY").list_dataset_groups()
    assert code(refused.value) == "UnrecognizedClientException"


def test_accounts_and_regions_see_only_their_own_resources(server):
    one = client(server, "personalize", "AKID1")
    two = client(server, "personalize", "AKID2")
    one_west = client(server, "personalize", "AKID1", "eu-west-1")
    arn = one.create_dataset_group(name="mine")["datasetGroupArn"]
    assert arn.startswith("arn:aws:personalize:us-east-1:111111111111:dataset-group/")
    wait_for(lambda: one.describe_dataset_group(datasetGroupArn=arn),
             ["datasetGroup", "status"])
    for other in (two, one_west):
        assert arn not in [g["datasetGroupArn"] for g in
                           other.list_dataset_groups()["datasetGroups"]]
        with pytest.raises(ClientError) as hidden:
            other.describe_dataset_group(datasetGroupArn=arn)
        assert code(hidden.value) == "ResourceNotFoundException"
        with pytest.raises(ClientError) as hidden:
            other.delete_dataset_group(datasetGroupArn=arn)
        assert code(hidden.value) == "ResourceNotFoundException"
    # the same name is free in another account and another region
    assert two.create_dataset_group(name="mine")["datasetGroupArn"].startswith(
        "arn:aws:personalize:us-east-1:222222222222:")
    assert one_west.create_dataset_group(name="mine")["datasetGroupArn"].startswith(
        "arn:aws:personalize:eu-west-1:111111111111:")
    assert one.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["name"] == "mine"


def test_tracking_ids_work_only_for_their_own_account(server):
    one = client(server, "personalize", "AKID1")
    group = one.create_dataset_group(name="tracked")["datasetGroupArn"]
    wait_for(lambda: one.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    tracking = event_tracker(one, group, "tracked")["trackingId"]
    event = [{"eventType": "click", "itemId": "i1", "sentAt": 1700000000}]
    client(server, "personalize-events", "AKID1").put_events(
        trackingId=tracking, sessionId="s", eventList=event)
    with pytest.raises(ClientError) as hidden:
        client(server, "personalize-events", "AKID2").put_events(
            trackingId=tracking, sessionId="s", eventList=event)
    assert code(hidden.value) == "ResourceNotFoundException"
