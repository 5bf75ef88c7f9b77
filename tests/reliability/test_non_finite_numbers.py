"""Issue 13 point 6 at the wire: NaN, Infinity and numbers beyond a double never get in.

A NaN/Infinity token is not JSON: SerializationException (400), as AWS's parser answers.
A literal that overflows a double (1e400 reads as infinity), or a timestamp outside years
1-9999, is InvalidInputException (400) naming the member. Numbers inside `properties`
strings are held to the same rule. Sent by real boto3 clients where boto3 sends them
(json.dumps writes NaN and Infinity) and as raw bodies otherwise; nothing refused is
stored."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.reliability import store
from tests.reliability.hostile import events_group, raw_call

EVENT_BODY = ('{"trackingId": "%s", "sessionId": "s1", "userId": "u1", "eventList": '
              '[{"eventType": "click", "itemId": "i1", "sentAt": SENT, "eventValue": VALUE}]}')


@pytest.fixture(scope="module")
def group(personalize):
    return events_group(personalize, "hostile-numbers")


def put_events_body(group, sent="1700000000", value="1.0") -> str:
    return (EVENT_BODY % group["trackingId"]).replace("SENT", sent).replace("VALUE", value)


@pytest.mark.parametrize("member", ["sentAt", "eventValue"])
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_tokens_are_serialization_errors(endpoint, group, member, token):
    before = store.count_events(endpoint.data_dir, group["group"])
    body = put_events_body(group, **{"sent" if member == "sentAt" else "value": token})
    reply = raw_call(endpoint.url, "personalize-events", "PutEvents", body)
    assert (reply.status, reply.error_type) == (400, "SerializationException"), reply.body
    assert token.lstrip("-") in reply.json["message"]
    assert store.count_events(endpoint.data_dir, group["group"]) == before


@pytest.mark.parametrize("member,literal", [("eventValue", "1e400"), ("eventValue", "-1e400"),
                                            ("sentAt", "1e400"), ("sentAt", "1e300"),
                                            ("sentAt", "-1e300")])
def test_numbers_beyond_range_are_invalid_input_naming_the_member(endpoint, group, member,
                                                                  literal):
    before = store.count_events(endpoint.data_dir, group["group"])
    body = put_events_body(group, **{"sent" if member == "sentAt" else "value": literal})
    reply = raw_call(endpoint.url, "personalize-events", "PutEvents", body)
    assert (reply.status, reply.error_type) == (400, "InvalidInputException"), reply.body
    assert f"eventList.1.member.{member}" in reply.json["message"]
    assert store.count_events(endpoint.data_dir, group["group"]) == before


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_boto3_non_finite_event_values_are_refused(events, endpoint, group, value):
    before = store.count_events(endpoint.data_dir, group["group"])
    with pytest.raises(ClientError) as error:
        events.put_events(trackingId=group["trackingId"], userId="u1", sessionId="s1",
                          eventList=[{"eventType": "click", "itemId": "i1",
                                      "sentAt": 1_700_000_000, "eventValue": value}])
    assert code(error.value) == "SerializationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert store.count_events(endpoint.data_dir, group["group"]) == before


def test_a_finite_event_is_still_accepted(events, endpoint, group):
    before = store.count_events(endpoint.data_dir, group["group"])
    events.put_events(trackingId=group["trackingId"], userId="u1", sessionId="s1",
                      eventList=[{"eventType": "click", "itemId": "i1",
                                  "sentAt": 1_700_000_000, "eventValue": 1e38}])
    assert store.count_events(endpoint.data_dir, group["group"]) == before + 1


@pytest.mark.parametrize("properties", [
    '{"price": NaN}', '{"price": Infinity}', '{"price": -Infinity}', '{"price": 1e400}',
    '{"price": "NaN"}', '{"price": "inf"}', '{"price": "-Infinity"}', '{"price": "1e400"}',
    '{"genre": 1e400}'])
def test_put_items_refuses_non_finite_properties(events, personalize, group, properties):
    with pytest.raises(ClientError) as error:
        events.put_items(datasetArn=group["Items"],
                         items=[{"itemId": "bad", "properties": properties}])
    assert code(error.value) == "InvalidInputException"
    assert "items.1" in error.value.response["Error"]["Message"]


def test_put_items_refusal_stores_nothing_and_finite_prices_pass(events, group, endpoint):
    with pytest.raises(ClientError):
        events.put_items(datasetArn=group["Items"], items=[
            {"itemId": "fine", "properties": '{"price": 3.5, "genre": "Drama"}'},
            {"itemId": "poison", "properties": '{"price": Infinity}'}])
    events.put_items(datasetArn=group["Items"], items=[
        {"itemId": "fine", "properties": json.dumps({"price": 3.5, "genre": "Drama"})}])
    assert {r["ITEM_ID"]: r["PRICE"] for r in store.records(endpoint.data_dir, group["Items"])} \
        == {"fine": 3.5}


@pytest.mark.parametrize("properties", ['{"eventValue": NaN}', '{"eventValue": "Infinity"}',
                                        '{"eventValue": 1e999}'])
def test_event_values_in_properties_are_held_to_the_same_rule(events, group, properties):
    with pytest.raises(ClientError) as error:
        events.put_events(trackingId=group["trackingId"], userId="u1", sessionId="s1",
                          eventList=[{"eventType": "click", "itemId": "i1",
                                      "sentAt": 1_700_000_000, "properties": properties}])
    assert code(error.value) == "InvalidInputException"


def test_control_plane_numbers(endpoint, personalize, group):
    """personalize (awsJson1.1): the HPO range doubles and integer members."""
    ranges = ('{"name": "s", "datasetGroupArn": "%s", "recipeArn": '
              '"arn:aws:personalize:::recipe/aws-user-personalization", "performHPO": true, '
              '"solutionConfig": {"hpoConfig": {"algorithmHyperParameterRanges": '
              '{"continuousHyperParameterRanges": [{"name": "x", "minValue": LOW, '
              '"maxValue": 1.0}]}}}}') % group["group"]
    for token in ("NaN", "-Infinity"):
        reply = raw_call(endpoint.url, "personalize", "CreateSolution",
                         ranges.replace("LOW", token))
        assert (reply.status, reply.error_type) == (400, "SerializationException"), reply.body
    reply = raw_call(endpoint.url, "personalize", "CreateSolution",
                     ranges.replace("LOW", "-1e400"))
    assert (reply.status, reply.error_type) == (400, "InvalidInputException"), reply.body
    assert "minValue" in reply.json["message"]
    for literal in ("1e400", "2.5", "4294967296", "1" + "0" * 400):
        reply = raw_call(endpoint.url, "personalize", "ListRecipes",
                         '{"maxResults": %s}' % literal)
        assert (reply.status, reply.error_type) == (400, "SerializationException"), reply.body
    for literal in ("NaN", "1e400"):
        reply = raw_call(endpoint.url, "personalize-runtime", "GetRecommendations",
                         '{"campaignArn": "arn:aws:personalize:us-east-1:000000000000:'
                         'campaign/x", "userId": "u1", "numResults": %s}' % literal)
        assert (reply.status, reply.error_type) == (400, "SerializationException"), reply.body
    assert personalize.list_recipes()["recipes"]
