"""Schemas: Avro records, validated when created and again against a dataset's type."""
from __future__ import annotations

from chalicelib.datasets.schema import parse_schema
from chalicelib.errors import ResourceInUseException
from chalicelib.resources import kinds
from chalicelib.resources.base import OperationsBase, live


class SchemaOperations(OperationsBase):
    def create_schema(self, ctx, name, schema, domain=None):
        parse_schema(schema)  # InvalidInputException on a bad record
        doc = self.registry.create(kinds.SCHEMA, ctx.arn_prefix, name,
                                   {"schema": schema, "domain": domain})
        return {"schemaArn": doc["schemaArn"]}

    def describe_schema(self, ctx, schemaArn):
        return {"schema": self.registry.get(kinds.SCHEMA, schemaArn)}

    def list_schemas(self, ctx, nextToken=None, maxResults=None):
        return self._list(kinds.SCHEMA, ctx, "schemas", nextToken, maxResults)

    def delete_schema(self, ctx, schemaArn):
        self.registry.get(kinds.SCHEMA, schemaArn)
        users = self.registry.list(kinds.DATASET, ctx.arn_prefix,
                                   lambda d: d["schemaArn"] == schemaArn and live(d))
        if users:
            raise ResourceInUseException(
                f"Schema {schemaArn} is used by dataset {users[0]['datasetArn']}.")
        self.registry.store.delete(kinds.SCHEMA.key, schemaArn)
