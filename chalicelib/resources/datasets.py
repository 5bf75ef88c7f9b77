"""Datasets: one per type in a dataset group, each bound to a schema."""
from __future__ import annotations

from chalicelib.datasets.schema import check_schema_for_dataset, parse_schema
from chalicelib.errors import InvalidInputException, ResourceInUseException
from chalicelib.records import kinds
from chalicelib.records.arns import arn_name
from chalicelib.resources.base import OperationsBase
from chalicelib.records.registry import CREATE_IN_PROGRESS, CREATE_PENDING

DATASET_TYPES = {t.lower(): t for t in
                 ("Interactions", "Items", "Users", "Actions", "Action_Interactions")}


def canonical_dataset_type(dataset_type: str) -> str:
    try:
        return DATASET_TYPES[dataset_type.lower()]
    except KeyError:
        raise InvalidInputException(
            f"Invalid dataset type {dataset_type}. Valid types are "
            f"{', '.join(DATASET_TYPES.values())}.") from None


class DatasetOperations(OperationsBase):
    def create_dataset(self, ctx, name, schemaArn, datasetGroupArn, datasetType, tags=None):
        dataset_type = canonical_dataset_type(datasetType)
        group = self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        schema_doc = self._parent(kinds.SCHEMA, schemaArn)
        check_schema_for_dataset(parse_schema(schema_doc["schema"]), dataset_type,
                                 group.get("domain"))
        doc = self.registry.create(
            kinds.DATASET, ctx.arn_prefix, name,
            {"schemaArn": schemaArn, "datasetGroupArn": datasetGroupArn,
             "datasetType": dataset_type},
            tags=tags, arn_name=f"{arn_name(datasetGroupArn)}/{dataset_type.upper()}")
        return {"datasetArn": doc["datasetArn"]}

    def describe_dataset(self, ctx, datasetArn):
        return {"dataset": self.registry.get(kinds.DATASET, datasetArn)}

    def list_datasets(self, ctx, datasetGroupArn=None, nextToken=None, maxResults=None):
        return self._list_in(kinds.DATASET, ctx, "datasets", nextToken, maxResults,
                             "datasetGroupArn", datasetGroupArn, skip_deleted=True)

    def update_dataset(self, ctx, datasetArn, schemaArn):
        dataset = self.registry.get_active(kinds.DATASET, datasetArn)
        new_schema = parse_schema(self._parent(kinds.SCHEMA, schemaArn)["schema"])
        group = self.registry.get(kinds.DATASET_GROUP, dataset["datasetGroupArn"])
        check_schema_for_dataset(new_schema, dataset["datasetType"], group.get("domain"))
        old_schema = parse_schema(self.registry.get(kinds.SCHEMA, dataset["schemaArn"])["schema"])
        missing = {f.name for f in old_schema.fields} - {f.name for f in new_schema.fields}
        if missing:  # AWS only allows adding columns to a dataset's schema
            raise InvalidInputException(
                f"The new schema must contain every field of the current one; "
                f"missing: {', '.join(sorted(missing))}.")

        def replace(doc):
            doc["schemaArn"] = schemaArn
            doc["latestDatasetUpdate"] = {
                "schemaArn": schemaArn, "status": "ACTIVE",
                "creationDateTime": ctx.received_at, "lastUpdatedDateTime": ctx.received_at}
        self.registry.update(kinds.DATASET, datasetArn, replace)
        return {"datasetArn": datasetArn}

    def delete_dataset(self, ctx, datasetArn):
        self.registry.get(kinds.DATASET, datasetArn)
        running = self.registry.list(
            kinds.DATASET_IMPORT_JOB, ctx.arn_prefix,
            lambda d: d["datasetArn"] == datasetArn
            and d["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS))
        if running:
            raise ResourceInUseException(
                f"Dataset {datasetArn} has an import job in progress: "
                f"{running[0]['datasetImportJobArn']}.")
        self.registry.delete(kinds.DATASET, datasetArn)
        self.backend.artifacts.remove(self.backend.artifacts.dataset_dir(datasetArn))
