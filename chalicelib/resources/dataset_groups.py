"""Dataset groups and schemas: the containers everything else lives in."""
from __future__ import annotations

from chalicelib.errors import ResourceInUseException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase, not_deleted


class DatasetGroupOperations(OperationsBase):
    def create_dataset_group(self, ctx, name, roleArn=None, kmsKeyArn=None, domain=None,
                             tags=None):
        doc = self.registry.create(
            kinds.DATASET_GROUP, ctx.arn_prefix, name,
            {"roleArn": roleArn, "kmsKeyArn": kmsKeyArn, "domain": domain}, tags=tags)
        return {"datasetGroupArn": doc["datasetGroupArn"], "domain": domain}

    def describe_dataset_group(self, ctx, datasetGroupArn):
        return {"datasetGroup": self.registry.get(kinds.DATASET_GROUP, datasetGroupArn)}

    def list_dataset_groups(self, ctx, nextToken=None, maxResults=None):
        return self._list(kinds.DATASET_GROUP, ctx, "datasetGroups", nextToken, maxResults)

    def delete_dataset_group(self, ctx, datasetGroupArn):
        self.registry.get(kinds.DATASET_GROUP, datasetGroupArn)
        for kind in (kinds.DATASET, kinds.SOLUTION, kinds.EVENT_TRACKER, kinds.FILTER,
                     kinds.RECOMMENDER, kinds.METRIC_ATTRIBUTION):
            children = self.registry.list(
                kind, ctx.arn_prefix,
                lambda d: d.get("datasetGroupArn") == datasetGroupArn and not_deleted(d))
            if children:
                raise ResourceInUseException(
                    f"Dataset group {datasetGroupArn} still has "
                    f"{kind.label.lower()}s: {children[0][kind.arn_field]}. Delete them first.")
        self.registry.delete(kinds.DATASET_GROUP, datasetGroupArn)
        self.backend.events.delete_dataset_group_data(datasetGroupArn)
