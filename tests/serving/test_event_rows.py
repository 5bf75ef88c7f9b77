"""PutEvents / PutItems row building and AWS's validation, without a server."""
import json

import pytest

from chalicelib.datasets.reader import schema_fields
from chalicelib.datasets.schema import parse_schema
from chalicelib.errors import InvalidInputException
from chalicelib.ingestion.provider import event_row, field_name, schema_values

SCHEMA = schema_fields(parse_schema(json.dumps({
    "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
               {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"},
               {"name": "EVENT_VALUE", "type": "float"}, {"name": "DEVICE", "type": "string"},
               {"name": "NUMBER_OF_RATINGS", "type": "int"}], "version": "1.0"})))


def test_field_names_are_camel_case_of_schema_fields():
    assert field_name("numberOfRatings") == "NUMBER_OF_RATINGS"
    assert field_name("device") == "DEVICE" and field_name("GENRES") == "GENRES"


def test_item_id_and_event_value_from_properties_as_aws_documents():
    row = event_row({"eventType": "rating", "sentAt": 5.0, "properties":
                     '{"itemId": "m1", "eventValue": "4.5", "numberOfRatings": "12"}'},
                    "u", "s", 0, SCHEMA)
    assert row["ITEM_ID"] == "m1" and row["EVENT_VALUE"] == 4.5
    assert row["NUMBER_OF_RATINGS"] == 12.0 and "ITEMID" not in row


@pytest.mark.parametrize("properties", ['{"x": 1', '"text"', '{"colour": "red"}',
                                        '{"numberOfRatings": "many"}', '{"device": [1]}',
                                        '{"eventType": "x"}'])
def test_invalid_properties(properties):
    with pytest.raises(InvalidInputException, match="eventList.1"):
        event_row({"eventType": "click", "itemId": "i", "sentAt": 1.0,
                   "properties": properties}, "u", "s", 0, SCHEMA)


def test_item_id_required_when_the_schema_has_it():
    with pytest.raises(InvalidInputException, match="itemId"):
        event_row({"eventType": "click", "sentAt": 1.0}, "u", "s", 0, SCHEMA)


def test_without_a_dataset_any_property_is_kept():
    assert schema_values({"anything": "x"}, None, "items.1", {"ITEM_ID"}) == {"ANYTHING": "x"}
