"""Event trackers: the trackingId that PutEvents writes into a dataset group with."""
from __future__ import annotations

import uuid

from chalicelib.errors import ResourceAlreadyExistsException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase, not_deleted


class EventTrackerOperations(OperationsBase):
    def create_event_tracker(self, ctx, name, datasetGroupArn, tags=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        existing = self.registry.list(
            kinds.EVENT_TRACKER, ctx.arn_prefix,
            lambda d: d["datasetGroupArn"] == datasetGroupArn and not_deleted(d))
        if existing:  # AWS allows one event tracker per dataset group
            raise ResourceAlreadyExistsException(
                f"Dataset group {datasetGroupArn} already has an event tracker: "
                f"{existing[0]['eventTrackerArn']}.")
        doc = self.registry.create(
            kinds.EVENT_TRACKER, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "accountId": ctx.account_id,
             "trackingId": str(uuid.uuid4())}, tags=tags)
        return {"eventTrackerArn": doc["eventTrackerArn"], "trackingId": doc["trackingId"]}

    def describe_event_tracker(self, ctx, eventTrackerArn):
        return {"eventTracker": self.registry.get(kinds.EVENT_TRACKER, eventTrackerArn)}

    def list_event_trackers(self, ctx, datasetGroupArn=None, nextToken=None,
                            maxResults=None):
        return self._list_in(kinds.EVENT_TRACKER, ctx, "eventTrackers", nextToken, maxResults,
                             "datasetGroupArn", datasetGroupArn, skip_deleted=True)

    def delete_event_tracker(self, ctx, eventTrackerArn):
        self.registry.get(kinds.EVENT_TRACKER, eventTrackerArn)
        self.registry.delete(kinds.EVENT_TRACKER, eventTrackerArn)

