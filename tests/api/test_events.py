"""personalize-events through boto3 over HTTP: what is stored, and AWS's validation."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore
from tests.api.builders import GENRE_PRICE_ITEMS_SCHEMA, TIER_USERS_SCHEMA, code
from tests.conftest import wait_for

SCHEMAS = {
    "Interactions": {"type": "record", "name": "Interactions", "fields": [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"},
        {"name": "DEVICE", "type": ["null", "string"]}], "version": "1.0"},
    "Items": GENRE_PRICE_ITEMS_SCHEMA,
    "Users": TIER_USERS_SCHEMA,
}


@pytest.fixture(scope="module")
def group(personalize):
    arn = personalize.create_dataset_group(name="events-api")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=arn),
             ["datasetGroup", "status"])
    datasets = {}
    for dataset_type, schema in SCHEMAS.items():
        schema_arn = personalize.create_schema(name=f"events-api-{dataset_type}",
                                               schema=json.dumps(schema))["schemaArn"]
        datasets[dataset_type] = personalize.create_dataset(
            name=f"events-api-{dataset_type}", schemaArn=schema_arn, datasetGroupArn=arn,
            datasetType=dataset_type)["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=datasets[dataset_type]),
                 ["dataset", "status"])
    tracker = personalize.create_event_tracker(name="events-api", datasetGroupArn=arn)
    return {"arn": arn, "datasets": datasets, "trackingId": tracker["trackingId"]}


@pytest.fixture(scope="module")
def store(endpoint):
    return SqliteEventStore(SqliteDatabase(endpoint.data_dir / "personalize.sqlite3"))


def test_put_events_stores_every_field(events, group, store):
    events.put_events(trackingId=group["trackingId"], userId="alice", sessionId="s-a",
                      eventList=[{"eventId": "e1", "eventType": "click", "eventValue": 4.5,
                                  "itemId": "i1", "sentAt": 1_700_000_000,
                                  "properties": json.dumps({"device": "phone"}),
                                  "recommendationId": "RID-1", "impression": ["i1", "i2"],
                                  "metricAttribution": {"eventAttributionSource": "email"}}])
    row = store.user_events(group["arn"], "alice")[-1]
    assert row["ITEM_ID"] == "i1" and row["EVENT_TYPE"] == "click"
    assert row["EVENT_VALUE"] == 4.5 and row["TIMESTAMP"] == 1_700_000_000
    assert row["DEVICE"] == "phone" and row["IMPRESSION"] == "i1|i2"
    assert row["RECOMMENDATION_ID"] == "RID-1" and row["EVENT_ID"] == "e1"
    assert row["EVENT_ATTRIBUTION_SOURCE"] == "email"


def test_anonymous_session_then_identified(events, group, store):
    events.put_events(trackingId=group["trackingId"], sessionId="anon-1",
                      eventList=[{"eventType": "click", "itemId": "i7", "sentAt": time.time()}])
    assert store.user_events(group["arn"], "bob") == []
    events.put_events(trackingId=group["trackingId"], userId="bob", sessionId="anon-1",
                      eventList=[{"eventType": "click", "itemId": "i8", "sentAt": time.time()}])
    assert [e["ITEM_ID"] for e in store.user_events(group["arn"], "bob")] == ["i7", "i8"]


@pytest.mark.parametrize("properties", ['{"device": ', '["a"]', '{"colour": "red"}'])
def test_bad_event_properties(events, group, properties):
    with pytest.raises(ClientError) as error:
        events.put_events(trackingId=group["trackingId"], userId="u", sessionId="s",
                          eventList=[{"eventType": "click", "itemId": "i1",
                                      "sentAt": time.time(), "properties": properties}])
    assert code(error.value) == "InvalidInputException"


def test_unknown_tracking_id(events):
    with pytest.raises(ClientError) as error:
        events.put_events(trackingId="00000000-0000-0000-0000-000000000000", sessionId="s",
                          eventList=[{"eventType": "click", "itemId": "i", "sentAt": 1}])
    assert code(error.value) == "ResourceNotFoundException"


def test_too_many_events_is_a_validation_error(events, group):
    with pytest.raises(ClientError) as error:
        events.put_events(trackingId=group["trackingId"], sessionId="s", eventList=[
            {"eventType": "click", "itemId": "i", "sentAt": 1}] * 11)
    assert code(error.value) == "InvalidInputException"


def test_put_items_and_users_upsert(events, group, store):
    items = group["datasets"]["Items"]
    events.put_items(datasetArn=items, items=[
        {"itemId": "i1", "properties": json.dumps({"genre": "drama", "price": "9.5"})}])
    events.put_items(datasetArn=items, items=[
        {"itemId": "i1", "properties": json.dumps({"genre": "comedy", "price": 3})}])
    records = [r for r in store.records(items) if r["ITEM_ID"] == "i1"]
    assert records == [{"ITEM_ID": "i1", "GENRE": "comedy", "PRICE": 3.0}]
    events.put_users(datasetArn=group["datasets"]["Users"], users=[
        {"userId": "alice", "properties": json.dumps({"tier": "gold"})}])
    assert store.records(group["datasets"]["Users"])[-1] == {"USER_ID": "alice", "TIER": "gold"}


@pytest.mark.parametrize("properties", ['{"price": "cheap"}', '{"unknownField": 1}', "nope"])
def test_bad_item_properties(events, group, properties):
    with pytest.raises(ClientError) as error:
        events.put_items(datasetArn=group["datasets"]["Items"],
                         items=[{"itemId": "i2", "properties": properties}])
    assert code(error.value) == "InvalidInputException"


def test_records_need_a_dataset_of_the_right_type(events, group):
    with pytest.raises(ClientError) as error:
        events.put_users(datasetArn=group["datasets"]["Items"],
                         users=[{"userId": "u", "properties": "{}"}])
    assert code(error.value) == "InvalidInputException"
    missing = group["datasets"]["Items"].replace("events-api", "no-such-group")
    with pytest.raises(ClientError) as error:
        events.put_items(datasetArn=missing, items=[{"itemId": "i"}])
    assert code(error.value) == "ResourceNotFoundException"


def test_put_actions_and_action_interactions(events, group, store):
    with pytest.raises(ClientError) as error:   # an Items dataset is not an Actions one
        events.put_actions(datasetArn=group["datasets"]["Items"],
                           actions=[{"actionId": "a1"}])
    assert code(error.value) == "InvalidInputException"
    events.put_action_interactions(trackingId=group["trackingId"], actionInteractions=[
        {"actionId": "a1", "userId": "carol", "sessionId": "s-c", "timestamp": 1_700_000_000,
         "eventType": "TAKEN", "impression": ["a1", "a2"]}])
    stored = store.user_events(group["arn"] + "#action-interactions", "carol")
    assert stored[-1]["ACTION_ID"] == "a1" and stored[-1]["IMPRESSION"] == "a1|a2"
    assert store.user_events(group["arn"], "carol") == []   # not an item interaction
