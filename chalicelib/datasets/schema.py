"""Avro schemas as Personalize accepts them, and the fields each dataset type needs."""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.errors import InvalidInputException

_PRIMITIVES = {"string", "int", "long", "float", "double", "boolean", "null"}
_REQUIRED = {
    "Interactions": {"USER_ID": {"string"}, "ITEM_ID": {"string"}, "TIMESTAMP": {"long", "int"}},
    "Items": {"ITEM_ID": {"string"}},
    "Users": {"USER_ID": {"string"}},
    "Actions": {"ACTION_ID": {"string"}},
    "Action_Interactions": {"USER_ID": {"string"}, "ACTION_ID": {"string"},
                            "TIMESTAMP": {"long", "int"}, "EVENT_TYPE": {"string"}},
}


@dataclass(frozen=True)
class Field:
    name: str
    avro_type: str
    nullable: bool
    categorical: bool = False
    textual: bool = False

    @property
    def kind(self) -> str:
        if self.name in ("USER_ID", "ITEM_ID", "ACTION_ID"):
            return "id"
        if self.name in ("TIMESTAMP", "CREATION_TIMESTAMP"):
            return "timestamp"
        if self.textual:
            return "textual"
        if self.categorical:
            return "categorical"
        if self.avro_type in ("int", "long", "float", "double"):
            return "numerical"
        return "string"


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name.upper()), None)


def parse_schema(schema_json: str) -> Schema:
    try:
        record = json.loads(schema_json)
    except ValueError as error:
        raise InvalidInputException(f"The schema is not valid JSON: {error}") from None
    if not isinstance(record, dict) or record.get("type") != "record":
        raise InvalidInputException('The schema must be an Avro record ("type": "record").')
    if not record.get("name"):
        raise InvalidInputException("The schema record must have a name.")
    raw_fields = record.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise InvalidInputException("The schema must have a non-empty fields list.")
    fields, seen = [], set()
    for raw in raw_fields:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise InvalidInputException("Every schema field needs a name and a type.")
        name = raw["name"].upper()
        if name in seen:
            raise InvalidInputException(f"Field {raw['name']} appears twice in the schema.")
        seen.add(name)
        types = raw.get("type")
        types = types if isinstance(types, list) else [types]
        if not types or any(t not in _PRIMITIVES for t in types):
            raise InvalidInputException(
                f"Field {raw['name']} has an unsupported type {raw.get('type')!r}.")
        concrete = [t for t in types if t != "null"]
        if len(concrete) != 1:
            raise InvalidInputException(f"Field {raw['name']} must have one non-null type.")
        categorical, textual = bool(raw.get("categorical")), bool(raw.get("textual"))
        if (categorical or textual) and concrete[0] != "string":
            raise InvalidInputException(
                f"Field {raw['name']} can only be categorical or textual if it is a string.")
        fields.append(Field(name, concrete[0], "null" in types, categorical, textual))
    return Schema(tuple(fields))


def check_schema_for_dataset(schema: Schema, dataset_type: str, domain: str | None) -> None:
    for name, allowed in _REQUIRED.get(dataset_type, {}).items():
        field = schema.field(name)
        if field is None:
            raise InvalidInputException(
                f"The schema of a {dataset_type} dataset must have a {name} field.")
        if field.avro_type not in allowed:
            raise InvalidInputException(
                f"{name} must be of type {' or '.join(sorted(allowed))} in a {dataset_type} "
                f"dataset, not {field.avro_type}.")
    if dataset_type != "Items" and any(f.textual for f in schema.fields):
        raise InvalidInputException("Only Items datasets may have textual fields.")
