"""Avro schema parsing and the per-dataset-type / per-domain field rules."""
import json

import pytest

from chalicelib.datasets.schema import check_schema_for_dataset, parse_schema
from chalicelib.errors import InvalidInputException


def schema(*fields, **record):
    return json.dumps({"type": "record", "name": record.get("name", "Interactions"),
                       "namespace": "com.amazonaws.personalize.schema",
                       "fields": list(fields), "version": "1.0"})


def f(name, type_, **flags):
    return {"name": name, "type": type_, **flags}


INTERACTIONS = [f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long")]
ITEMS = [f("ITEM_ID", "string"), f("GENRE", "string", categorical=True)]
USERS = [f("USER_ID", "string"), f("AGE", "int")]
ACTIONS = [f("ACTION_ID", "string"), f("VALUE", ["null", "long"])]
ACTION_INTERACTIONS = [f("USER_ID", "string"), f("ACTION_ID", "string"),
                       f("TIMESTAMP", "long"), f("EVENT_TYPE", "string")]
VALID = {"Interactions": INTERACTIONS, "Items": ITEMS, "Users": USERS, "Actions": ACTIONS,
         "Action_Interactions": ACTION_INTERACTIONS}


def rejected(text, *check_args) -> str:
    with pytest.raises(InvalidInputException) as caught:
        parsed = parse_schema(text)
        if check_args:
            check_schema_for_dataset(parsed, *check_args)
    return caught.value.message


def test_fields_kinds_and_nullability():
    parsed = parse_schema(schema(
        *INTERACTIONS, f("EVENT_VALUE", ["null", "float"]), f("device", "string", categorical=True),
        f("DESCRIPTION", {"type": "string"}, textual=True), f("FLAG", "boolean")))
    assert parsed.names == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE", "DEVICE",
                            "DESCRIPTION", "FLAG"]
    assert parsed.kinds == {"USER_ID": "id", "ITEM_ID": "id", "TIMESTAMP": "timestamp",
                            "EVENT_VALUE": "numerical", "DEVICE": "categorical",
                            "DESCRIPTION": "textual", "FLAG": "string"}
    value = parsed.field("event_value")
    assert (value.avro_type, value.nullable) == ("float", True)
    assert parsed.field("DEVICE").declared_name == "device"
    assert parsed.namespace == "com.amazonaws.personalize.schema"


@pytest.mark.parametrize("dataset_type", sorted(VALID))
def test_valid_schema_per_dataset_type(dataset_type):
    check_schema_for_dataset(parse_schema(schema(*VALID[dataset_type])), dataset_type, None)


@pytest.mark.parametrize("text, words", [
    ("not json", "not valid JSON"),
    (json.dumps({"type": "enum", "name": "X", "fields": []}), '"type": "record"'),
    (json.dumps({"type": "record", "fields": [f("A", "string")]}), '"name"'),
    (json.dumps({"type": "record", "name": "X", "fields": []}), "non-empty"),
    (schema(f("A", "array")), "complex type"),
    (schema(f("A", {"type": "map", "values": "string"})), "complex type"),
    (schema(f("A", "uuid")), "unsupported type"),
    (schema(f("A", ["null", "string", "int"])), "exactly one type"),
    (schema(f("A", "null")), "exactly one type"),
    (schema({"name": "A"}), "has no type"),
    (schema(f("1A", "string")), "letters, digits"),
    (schema(f("PRICE", "float", categorical=True)), "only string fields can be categorical"),
    (schema(f("PRICE", "int", textual=True)), "only string fields can be textual"),
    (schema(f("A", "string", categorical=True, textual=True)), "both"),
    (schema(f("A", "string", categorical="yes")), "true or false"),
    (schema(f("GENRES_1", "string"), f("genres1", "string")), "unique names"),
])
def test_invalid_schemas(text, words):
    assert words in rejected(text)


@pytest.mark.parametrize("dataset_type, fields, words", [
    ("Interactions", INTERACTIONS[:2], "required field TIMESTAMP (long)"),
    ("Interactions", [INTERACTIONS[0], f("ITEM_ID", "int"), INTERACTIONS[2]],
     "ITEM_ID in a Interactions dataset must be string"),
    ("Interactions", INTERACTIONS[:2] + [f("TIMESTAMP", "string")], "must be long"),
    ("Interactions", INTERACTIONS[:2] + [f("TIMESTAMP", ["null", "long"])], "nullable"),
    ("Interactions", INTERACTIONS + [f("EVENT_TYPE", "string", categorical=True)],
     "EVENT_TYPE cannot be categorical"),
    ("Interactions", INTERACTIONS + [f("EVENT_VALUE", "string")], "EVENT_VALUE"),
    ("Interactions", INTERACTIONS + [f("NOTE", "string", textual=True)], "Only Items"),
    ("Items", [f("ITEM_ID", "string")], "at least one metadata field"),
    ("Items", ITEMS + [f("CREATION_TIMESTAMP", "string")], "CREATION_TIMESTAMP"),
    ("Users", [f("USER_ID", "long"), f("AGE", "int")], "USER_ID in a Users dataset must be"),
    ("Users", USERS + [f("BIO", "string", textual=True)], "Only Items"),
    ("Actions", [f("ITEM_ID", "string"), f("X", "int")], "required field ACTION_ID"),
    ("Action_Interactions", ACTION_INTERACTIONS[:3], "required field EVENT_TYPE"),
    ("Ratings", INTERACTIONS, "Unknown datasetType"),
])
def test_dataset_type_rules(dataset_type, fields, words):
    assert words in rejected(schema(*fields), dataset_type, None)


def test_textual_items_field_and_reserved_keywords_allowed():
    fields = ITEMS + [f("DESCRIPTION", ["null", "string"], textual=True),
                      f("CREATION_TIMESTAMP", "long")]
    check_schema_for_dataset(parse_schema(schema(*fields)), "Items", None)
    full = INTERACTIONS + [f("EVENT_TYPE", "string"), f("EVENT_VALUE", ["null", "float"]),
                           f("IMPRESSION", ["null", "string"])]
    check_schema_for_dataset(parse_schema(schema(*full)), "Interactions", None)


def test_ecommerce_domain_requirements():
    interactions = INTERACTIONS + [f("EVENT_TYPE", "string")]
    check_schema_for_dataset(parse_schema(schema(*interactions)), "Interactions", "ECOMMERCE")
    assert "required field EVENT_TYPE" in rejected(schema(*INTERACTIONS), "Interactions",
                                                   "ECOMMERCE")
    items = [f("ITEM_ID", "string"), f("PRICE", "float"),
             f("CATEGORY_L1", "string", categorical=True)]
    check_schema_for_dataset(parse_schema(schema(*items)), "Items", "ECOMMERCE")
    assert "required field PRICE" in rejected(schema(*ITEMS), "Items", "ECOMMERCE")
    not_categorical = items[:2] + [f("CATEGORY_L1", "string")]
    assert "must be a categorical string" in rejected(schema(*not_categorical), "Items",
                                                      "ECOMMERCE")


def test_video_on_demand_domain_requirements():
    items = [f("ITEM_ID", "string"), f("GENRES", "string", categorical=True)]
    check_schema_for_dataset(parse_schema(schema(*items)), "Items", "VIDEO_ON_DEMAND")
    assert "GENRES" in rejected(schema(*ITEMS), "Items", "VIDEO_ON_DEMAND")
    assert "EVENT_TYPE" in rejected(schema(*INTERACTIONS), "Interactions", "VIDEO_ON_DEMAND")
