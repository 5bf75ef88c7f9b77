"""Issue 13 point 7 at the wire: broken Unicode is a 4xx, never a 500, never stored.

A lone surrogate ("\\ud800" as a JSON escape: what boto3 sends for such a Python str) in
any string member of any operation is InvalidInputException (400) naming the member; a
body that is not UTF-8 is SerializationException (400). A correctly escaped surrogate pair
is an ordinary character and is accepted."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.reliability import store
from tests.reliability.hostile import (LONE_SURROGATE, OPERATIONS, events_group, raw_call,
                                       string_members, typed_filler)

CASES = [(service, operation.name, member) for service, operation in OPERATIONS
         for member in string_members(operation)]


@pytest.fixture(scope="module")
def group(personalize):
    return events_group(personalize, "hostile-unicode")


@pytest.mark.parametrize("service,operation,member", CASES,
                         ids=[f"{o}.{m}" for _, o, m in CASES])
def test_a_lone_surrogate_in_any_string_member_is_invalid_input(endpoint, service, operation,
                                                                member):
    model = dict((op.name, op) for s, op in OPERATIONS if s == service)[operation]
    body = {**typed_filler(model.input_shape), member: f"x{LONE_SURROGATE}y"}
    reply = raw_call(endpoint.url, service, operation, body)
    assert (reply.status, reply.error_type) == (400, "InvalidInputException"), reply.body
    message = reply.json["message"]
    assert f"'{member}'" in message and "Unicode" in message
    assert "\\ud800" in message   # shown escaped, and the response is valid UTF-8 JSON


def test_boto3_lone_surrogates_in_ids_and_arns(personalize, runtime, events, endpoint, group):
    arn = "arn:aws:personalize:us-east-1:000000000000:campaign/" + LONE_SURROGATE
    calls = [
        lambda: runtime.get_recommendations(campaignArn=arn, userId="u1"),
        lambda: runtime.get_recommendations(
            campaignArn="arn:aws:personalize:us-east-1:000000000000:campaign/c",
            userId="u" + LONE_SURROGATE),
        lambda: runtime.get_recommendations(
            campaignArn="arn:aws:personalize:us-east-1:000000000000:campaign/c",
            itemId=LONE_SURROGATE),
        lambda: runtime.get_recommendations(
            campaignArn="arn:aws:personalize:us-east-1:000000000000:campaign/c",
            userId="u1", filterValues={LONE_SURROGATE: '"x"'}),
        lambda: events.put_events(trackingId=group["trackingId"], userId=LONE_SURROGATE,
                                  sessionId="s1", eventList=[_event()]),
        lambda: events.put_events(trackingId=group["trackingId"], userId="u1",
                                  sessionId=LONE_SURROGATE, eventList=[_event()]),
        lambda: events.put_events(trackingId=group["trackingId"], userId="u1",
                                  sessionId="s1", eventList=[_event(itemId=LONE_SURROGATE)]),
        lambda: events.put_items(datasetArn=group["Items"],
                                 items=[{"itemId": "i" + LONE_SURROGATE}]),
        lambda: events.put_items(datasetArn=group["Items"] + LONE_SURROGATE,
                                 items=[{"itemId": "i1"}]),
        lambda: personalize.describe_campaign(campaignArn=arn),
        lambda: personalize.delete_campaign(campaignArn=arn),
        lambda: personalize.describe_dataset_group(datasetGroupArn=group["group"]
                                                   + LONE_SURROGATE),
        lambda: personalize.list_tags_for_resource(resourceArn=arn),
        lambda: personalize.tag_resource(resourceArn=group["group"],
                                         tags=[{"tagKey": "k", "tagValue": LONE_SURROGATE}]),
    ]
    before = store.count_events(endpoint.data_dir, group["group"])
    for number, request in enumerate(calls):
        with pytest.raises(ClientError) as error:
            request()
        assert code(error.value) == "InvalidInputException", (number, error.value.response)
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert store.count_events(endpoint.data_dir, group["group"]) == before
    assert store.records(endpoint.data_dir, group["Items"]) == []
    assert personalize.list_tags_for_resource(resourceArn=group["group"])["tags"] == []


@pytest.mark.parametrize("properties", ['{"genre": "\\ud800"}', '{"\\udfff": "x"}',
                                        '{"genre": ["\\ud800"]}'])
def test_lone_surrogates_inside_properties_are_invalid_input(events, group, properties):
    with pytest.raises(ClientError) as error:
        events.put_items(datasetArn=group["Items"],
                         items=[{"itemId": "i1", "properties": properties}])
    assert code(error.value) == "InvalidInputException"


@pytest.mark.parametrize("service,operation", [
    ("personalize", "DescribeCampaign"), ("personalize-runtime", "GetRecommendations"),
    ("personalize-events", "PutEvents")])
@pytest.mark.parametrize("body", [
    b'{"campaignArn": "arn:\xff", "userId": "\xc3"}',      # bytes that start no character
    b'{"userId": "\xed\xa0\x80"}',                          # a surrogate encoded as UTF-8
    '{"userId": "u1"}'.encode("utf-16"),                    # not UTF-8 at all
    b'{"userId": "\xf8\x88\x80\x80\x80"}'],                # a 5-byte sequence
    ids=["bad-start", "encoded-surrogate", "utf-16", "five-bytes"])
def test_bodies_that_are_not_utf8_are_serialization_errors(endpoint, service, operation, body):
    reply = raw_call(endpoint.url, service, operation, body)
    assert (reply.status, reply.error_type) == (400, "SerializationException"), reply.body
    assert "UTF-8" in reply.json["message"]


def test_a_surrogate_pair_is_an_ordinary_character(events, endpoint, group):
    """"\\ud83d\\ude00" is one emoji: accepted, and stored as that character."""
    before = store.count_events(endpoint.data_dir, group["group"])
    body = {"trackingId": group["trackingId"], "userId": "\U0001F600", "sessionId": "s1",
            "eventList": [{**_event(), "itemId": "caf\u00e9-\U0001F600"}]}
    reply = raw_call(endpoint.url, "personalize-events", "PutEvents", json.dumps(body))
    assert reply.status == 200, reply.body
    assert store.count_events(endpoint.data_dir, group["group"]) == before + 1


def _event(**extra) -> dict:
    return {"eventType": "click", "itemId": "i1", "sentAt": 1_700_000_000, **extra}


def test_a_utf8_byte_order_mark_is_skipped(endpoint):
    """Java's JSON readers skip it; so does this one."""
    reply = raw_call(endpoint.url, "personalize", "ListRecipes",
                     b'\xef\xbb\xbf{"maxResults": 5}')
    assert reply.status == 200, reply.body
    assert len(reply.json["recipes"]) == 5
