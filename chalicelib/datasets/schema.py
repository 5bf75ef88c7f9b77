"""Avro schemas as Amazon Personalize accepts them, and what each dataset type needs.

`parse_schema` checks the record itself (CreateSchema); `check_schema_for_dataset` checks it
against a dataset type and domain (CreateDataset / UpdateDataset). Both raise
InvalidInputException with a message a client can act on.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from chalicelib.errors import InvalidInputException

INTERACTIONS, ITEMS, USERS = "Interactions", "Items", "Users"
ACTIONS, ACTION_INTERACTIONS = "Actions", "Action_Interactions"
DATASET_TYPES = (INTERACTIONS, ITEMS, USERS, ACTIONS, ACTION_INTERACTIONS)
ECOMMERCE, VIDEO_ON_DEMAND = "ECOMMERCE", "VIDEO_ON_DEMAND"

# Column kinds: the one vocabulary (Table.kinds, training's features, serving's catalogue).
ID, CATEGORICAL, NUMERICAL, TEXTUAL, TIMESTAMP, STRING = (
    "id", "categorical", "numerical", "textual", "timestamp", "string")

NUMERIC_TYPES = ("int", "long", "float", "double")
_PRIMITIVES = {"string", "boolean", "null", *NUMERIC_TYPES}
_COMPLEX = {"record", "enum", "array", "map", "fixed", "bytes"}
_AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_FIELDS = 100   # AWS: at most 100 metadata columns in a dataset

ID_FIELDS = ("USER_ID", "ITEM_ID", "ACTION_ID")
TIMESTAMP_FIELDS = ("TIMESTAMP", "CREATION_TIMESTAMP", "EXPIRATION_TIMESTAMP")


@dataclass(frozen=True)
class Rule:
    """What a required or reserved field must be: one of `types`, maybe categorical/textual,
    and whether the data may leave it empty (a "null" in its union)."""
    types: tuple[str, ...]
    categorical: bool | None = None   # True: must be; False: must not be; None: either
    textual: bool | None = None


_STR = Rule(("string",), categorical=False, textual=False)
_CAT = Rule(("string",), categorical=True)
_TEXT = Rule(("string",), textual=True)
_LONG = Rule(("long", "int"))
_FLOAT = Rule(("float", "double"))
_TIME = Rule(("long", "int", "float", "double"))   # domains document CREATION_TIMESTAMP as float

# Custom dataset groups: (required fields, reserved keywords) per dataset type.
_CUSTOM = {
    INTERACTIONS: ({"USER_ID": _STR, "ITEM_ID": _STR, "TIMESTAMP": _LONG},
                   {"EVENT_TYPE": _STR, "EVENT_VALUE": _FLOAT, "IMPRESSION": _STR,
                    "RECOMMENDATION_ID": _STR, "EVENT_ATTRIBUTION_SOURCE": _STR}),
    ITEMS: ({"ITEM_ID": _STR}, {"CREATION_TIMESTAMP": _TIME}),
    USERS: ({"USER_ID": _STR}, {}),
    ACTIONS: ({"ACTION_ID": _STR},
              {"CREATION_TIMESTAMP": _TIME, "VALUE": _LONG, "TYPE": _STR,
               "EXPIRATION_TIMESTAMP": _LONG, "REPEAT_FREQUENCY": _LONG}),
    ACTION_INTERACTIONS: ({"USER_ID": _STR, "ACTION_ID": _STR, "TIMESTAMP": _LONG,
                           "EVENT_TYPE": _STR},
                          {"IMPRESSION": _STR, "RECOMMENDATION_ID": _STR}),
}
# Domain dataset groups add required fields on top of the custom ones.
_DOMAIN_REQUIRED = {
    ECOMMERCE: {INTERACTIONS: {"EVENT_TYPE": _STR},
                ITEMS: {"PRICE": _FLOAT, "CATEGORY_L1": _CAT}},
    VIDEO_ON_DEMAND: {INTERACTIONS: {"EVENT_TYPE": _STR},
                      ITEMS: {"GENRES": _CAT}},
}
_DOMAIN_RESERVED = {
    ECOMMERCE: {ITEMS: {"CATEGORY_L2": _CAT, "CATEGORY_L3": _CAT, "PRODUCT_DESCRIPTION": _TEXT,
                        "AGE_GROUP": _CAT, "ADULT": _CAT, "GENDER": _CAT}},
    VIDEO_ON_DEMAND: {ITEMS: {"PRODUCT_DESCRIPTION": _TEXT}},
}
# Entity datasets need something besides the id to be worth importing.
_NEEDS_METADATA = (ITEMS, USERS, ACTIONS)
_ENTITY_ID = {ITEMS: "ITEM_ID", USERS: "USER_ID", ACTIONS: "ACTION_ID"}


@dataclass(frozen=True)
class Field:
    """One schema field. `name` is upper-cased: data and CSV headers match it ignoring case."""
    name: str
    avro_type: str            # the non-null type of the union
    nullable: bool
    categorical: bool = False
    textual: bool = False
    declared_name: str = ""   # as the schema spells it

    @property
    def numeric(self) -> bool:
        """Holds numbers (ids never do; timestamps do): values must be given as numbers."""
        return self.avro_type in NUMERIC_TYPES

    @property
    def kind(self) -> str:
        """How the column is read and used (Table.kinds in chalicelib.datasets.tables)."""
        if self.name in ID_FIELDS:
            return ID
        if self.name in TIMESTAMP_FIELDS and self.avro_type in NUMERIC_TYPES:
            return TIMESTAMP
        if self.textual:
            return TEXTUAL
        if self.categorical:
            return CATEGORICAL
        if self.avro_type in NUMERIC_TYPES:
            return NUMERICAL
        return STRING


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    namespace: str | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field | None:
        wanted = name.upper()
        return next((f for f in self.fields if f.name == wanted), None)

    @property
    def kinds(self) -> dict[str, str]:
        return {f.name: f.kind for f in self.fields}


def parse_schema(schema_json: str) -> Schema:
    """An Avro record of flat, primitive fields, as CreateSchema accepts it."""
    try:
        record = json.loads(schema_json)
    except (TypeError, ValueError) as error:
        raise InvalidInputException(f"The schema is not valid JSON: {error}") from None
    if not isinstance(record, dict) or record.get("type") != "record":
        raise InvalidInputException(
            'The schema must be an Avro record: a JSON object with "type": "record".')
    name = record.get("name")
    if not isinstance(name, str) or not _AVRO_NAME.match(name):
        raise InvalidInputException(
            'The schema record needs a "name" made of letters, digits and underscores.')
    namespace = record.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InvalidInputException('The schema "namespace" must be a string.')
    raw_fields = record.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise InvalidInputException('The schema must have a non-empty "fields" list.')
    if len(raw_fields) > MAX_FIELDS + 5:   # + the required and reserved columns
        raise InvalidInputException(
            f"The schema has {len(raw_fields)} fields; at most {MAX_FIELDS} metadata fields "
            "are allowed.")
    fields, seen = [], {}
    for position, raw in enumerate(raw_fields, start=1):
        field = _parse_field(raw, position)
        # AWS compares names ignoring case and underscores: GENRES_1 and GENRES1 clash.
        squashed = field.name.replace("_", "")
        if squashed in seen:
            raise InvalidInputException(
                f"Schema fields must have unique names: {field.declared_name} clashes with "
                f"{seen[squashed]} (names are compared ignoring case and underscores).")
        seen[squashed] = field.declared_name
        fields.append(field)
    return Schema(name, tuple(fields), namespace)


def _parse_field(raw, position: int) -> Field:
    if not isinstance(raw, dict):
        raise InvalidInputException(f"Schema field {position} must be a JSON object.")
    name = raw.get("name")
    if not isinstance(name, str) or not _AVRO_NAME.match(name):
        raise InvalidInputException(
            f"Schema field {position} needs a name made of letters, digits and underscores "
            "that does not start with a digit.")
    if "type" not in raw:
        raise InvalidInputException(f"Schema field {name} has no type.")
    types = _union_members(raw["type"], name)
    concrete = [t for t in types if t != "null"]
    if len(concrete) != 1 or len(set(types)) != len(types):
        raise InvalidInputException(
            f"Schema field {name} must have exactly one type besides null, "
            f"not {raw['type']!r}.")
    avro_type = concrete[0]
    categorical = _flag(raw, "categorical", name)
    textual = _flag(raw, "textual", name)
    if categorical and avro_type != "string":
        raise InvalidInputException(
            f"Field {name} is categorical but of type {avro_type}: only string fields can be "
            "categorical.")
    if textual and avro_type != "string":
        raise InvalidInputException(
            f"Field {name} is textual but of type {avro_type}: only string fields can be "
            "textual.")
    if categorical and textual:
        raise InvalidInputException(f"Field {name} cannot be both categorical and textual.")
    return Field(name.upper(), avro_type, "null" in types, categorical, textual, name)


def _union_members(declared, name: str) -> list[str]:
    members = declared if isinstance(declared, list) else [declared]
    if not members:
        raise InvalidInputException(f"Schema field {name} has an empty type union.")
    out = []
    for member in members:
        if isinstance(member, dict):   # {"type": "string"} is Avro for "string"
            member = member.get("type")
        if member in _COMPLEX or isinstance(member, (dict, list)):
            raise InvalidInputException(
                f"Schema field {name} has a complex type ({member!r}); Amazon Personalize "
                "schemas support only flat fields of string, int, long, float, double, "
                "boolean and null.")
        if member not in _PRIMITIVES:
            raise InvalidInputException(
                f"Schema field {name} has an unsupported type {member!r}; use string, int, "
                "long, float, double, boolean or null.")
        out.append(member)
    return out


def _flag(raw: dict, key: str, name: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInputException(f'Field {name}: "{key}" must be true or false.')
    return value


def check_schema_for_dataset(schema: Schema, dataset_type: str, domain: str | None) -> None:
    """The schema holds every field the dataset type (and domain) requires, reserved
    keywords have their required types, and textual fields appear only in Items."""
    if dataset_type not in DATASET_TYPES:
        raise InvalidInputException(
            f"Unknown datasetType {dataset_type}; expected one of {', '.join(DATASET_TYPES)}.")
    if domain is not None and domain not in (ECOMMERCE, VIDEO_ON_DEMAND):
        raise InvalidInputException(f"Unknown domain {domain}.")
    required, reserved = (dict(part) for part in _CUSTOM[dataset_type])
    if domain:
        required.update(_DOMAIN_REQUIRED[domain].get(dataset_type, {}))
        reserved.update(_DOMAIN_RESERVED[domain].get(dataset_type, {}))
    where = f"{domain} {dataset_type}" if domain else dataset_type
    for name, rule in required.items():
        field = schema.field(name)
        if field is None:
            raise InvalidInputException(
                f"The schema for a {where} dataset must include the required field {name} "
                f"({_describe(rule)}).")
        if field.nullable and name in ID_FIELDS + ("TIMESTAMP",):
            raise InvalidInputException(f"Required field {name} cannot be nullable.")
        _check_rule(field, rule, where)
    for name, rule in reserved.items():
        field = schema.field(name)
        if field is not None:
            _check_rule(field, rule, where)
    textual = [f.declared_name for f in schema.fields if f.textual]
    if textual and dataset_type != ITEMS:
        raise InvalidInputException(
            f"Only Items datasets can have textual fields; {', '.join(textual)} is textual.")
    if dataset_type in _NEEDS_METADATA:
        id_field = _ENTITY_ID[dataset_type]
        if not any(f.name != id_field for f in schema.fields):
            raise InvalidInputException(
                f"The schema for a {where} dataset must include at least one metadata field "
                f"besides {id_field}.")


def _check_rule(field: Field, rule: Rule, where: str) -> None:
    if field.avro_type not in rule.types:
        raise InvalidInputException(
            f"Field {field.name} in a {where} dataset must be {_describe(rule)}, "
            f"not {field.avro_type}.")
    if rule.categorical is True and not field.categorical:
        raise InvalidInputException(
            f'Reserved field {field.name} must be a categorical string ("categorical": true).')
    if rule.categorical is False and field.categorical:
        raise InvalidInputException(f"Reserved field {field.name} cannot be categorical.")
    if rule.textual is True and not field.textual:
        raise InvalidInputException(
            f'Reserved field {field.name} must be a textual string ("textual": true).')
    if rule.textual is False and field.textual:
        raise InvalidInputException(f"Reserved field {field.name} cannot be textual.")


def _describe(rule: Rule) -> str:
    kind = " or ".join(rule.types[:1] if rule.types[0] == "long" else rule.types[:2])
    if rule.categorical:
        return f"categorical {kind}"
    if rule.textual:
        return f"textual {kind}"
    return kind

def field_name(key: str) -> str:
    """Property keys are the schema's field names in camelCase: numberOfRatings ->
    NUMBER_OF_RATINGS (upper-case keys pass through)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()
