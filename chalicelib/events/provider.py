"""personalize-events operations. Every accepted event is durable before the call returns."""
from __future__ import annotations

import json
import re

from chalicelib.errors import InvalidInputException
from chalicelib.resources import kinds
from chalicelib.resources.event_trackers import tracker_by_tracking_id


def _properties(text: str | None, where: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInputException(f"{where}.properties is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidInputException(f"{where}.properties must be a JSON object.")
    return value


def field_name(key: str) -> str:
    """Property keys are the schema's field names in camelCase: numberOfRatings ->
    NUMBER_OF_RATINGS."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()


def event_row(event: dict, user_id: str | None, session_id: str, index: int) -> dict:
    properties = _properties(event.get("properties"), f"eventList.{index + 1}")
    row = {"USER_ID": user_id, "SESSION_ID": session_id,
           "ITEM_ID": event.get("itemId") or properties.get("itemId"),
           "TIMESTAMP": event["sentAt"], "EVENT_TYPE": event["eventType"],
           "EVENT_VALUE": event.get("eventValue"),
           "IMPRESSION": "|".join(event.get("impression") or []),
           "RECOMMENDATION_ID": event.get("recommendationId"), "EVENT_ID": event.get("eventId")}
    row.update({field_name(k): v for k, v in properties.items() if k != "itemId"})
    return row


class EventsProvider:
    def __init__(self, backend):
        self.backend = backend
        self.registry = backend.registry

    def put_events(self, ctx, trackingId, sessionId, eventList, userId=None):
        tracker = tracker_by_tracking_id(self.registry, trackingId)
        group = tracker["datasetGroupArn"]
        rows = [event_row(e, userId, sessionId, i) for i, e in enumerate(eventList)]
        self.backend.events.append_events(group, rows)
        if userId:  # anonymous events of this session now belong to the user
            self.backend.events.relabel_session(group, sessionId, userId)
        return {}

    def _put_records(self, dataset_arn, records, id_key, id_field, dataset_type, where):
        dataset = self.registry.get_active(kinds.DATASET, dataset_arn)
        if dataset["datasetType"] != dataset_type:
            raise InvalidInputException(
                f"Dataset {dataset_arn} is a {dataset['datasetType']} dataset, "
                f"not {dataset_type}.")
        rows = []
        for index, record in enumerate(records):
            properties = _properties(record.get("properties"), f"{where}.{index + 1}")
            rows.append({id_field: record[id_key],
                         **{field_name(k): v for k, v in properties.items()}})
        self.backend.events.upsert_records(dataset_arn, id_field, rows)
        return {}

    def put_items(self, ctx, datasetArn, items):
        return self._put_records(datasetArn, items, "itemId", "ITEM_ID", "Items", "items")

    def put_users(self, ctx, datasetArn, users):
        return self._put_records(datasetArn, users, "userId", "USER_ID", "Users", "users")

    def put_actions(self, ctx, datasetArn, actions):
        return self._put_records(datasetArn, actions, "actionId", "ACTION_ID", "Actions",
                                 "actions")
