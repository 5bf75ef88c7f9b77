"""personalize-events operations. Every accepted event is durable before the call returns.

Checks follow AWS: properties must be a JSON object whose camelCase keys name fields of the
dataset's schema (numbers for numeric fields); the trackingId must name an existing event
tracker. PutItems/PutUsers are announced to the in-process change feed after they are
stored, so filters and metadata in serving see them on the next request.
"""
from __future__ import annotations

import math
import re
import threading
import time

from chalicelib import strict_json
from chalicelib.datasets.reader import SchemaCache
from chalicelib.datasets.schema import Field, field_name
from chalicelib.errors import (InvalidInputException, ResourceInUseException,
                               ResourceNotFoundException)
from chalicelib.datasets import changes
from chalicelib.records import kinds
from chalicelib.records.lifecycle import not_deleted

# Fields set from the request's own members, never from properties.
_EVENT_MEMBER_FIELDS = {"USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE",
                        "IMPRESSION", "RECOMMENDATION_ID", "EVENT_ID", "SESSION_ID"}
_ACTION_MEMBER_FIELDS = {"USER_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE", "IMPRESSION",
                         "RECOMMENDATION_ID", "EVENT_ID", "SESSION_ID"}
# Action interactions share the events table under their own key, so item histories and
# item training data never see them.
ACTION_INTERACTIONS_SUFFIX = "#action-interactions"
_TRACKER_TTL_SECONDS = 2.0




def parse_properties(text: str | None, where: str) -> dict:
    """The properties member: a JSON object as a string, read strictly (no NaN or
    Infinity, no number beyond a double, no lone surrogate: none could be stored)."""
    if text is None:
        return {}
    try:
        value = strict_json.loads(text, "the value")
    except strict_json.JsonError as error:
        raise InvalidInputException(f"Invalid properties for {where}: {error.message}") \
            from None
    if not isinstance(value, dict):
        raise InvalidInputException(
            f"Invalid properties for {where}: the value must be a JSON object.")
    return value


def schema_values(properties: dict, schema: dict[str, Field] | None, where: str,
                  reserved: set[str]) -> dict:
    """properties -> {FIELD: value}, checked against the schema when the dataset exists."""
    out = {}
    for key, value in properties.items():
        name = field_name(key)
        if schema is not None and name not in schema:
            raise InvalidInputException(
                f"Invalid properties for {where}: {key} is not a field of the dataset "
                f"schema.")
        if name in reserved and schema is not None:
            raise InvalidInputException(
                f"Invalid properties for {where}: {key} must be given as its own "
                f"parameter, not in properties.")
        if isinstance(value, (dict, list)):
            raise InvalidInputException(
                f"Invalid properties for {where}: the value of {key} must be a string or "
                f"a number.")
        if schema is not None and schema[name].numeric and value is not None:
            value = _number(value, key, where)
        out[name] = value
    return out


def _number(value, key: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidInputException(
            f"Invalid properties for {where}: {key} must be a finite number, got "
            f"{strict_json.printable(str(value))!r}.")
    return number


def event_row(event: dict, user_id: str | None, session_id: str, index: int,
              schema: dict[str, Field] | None) -> dict:
    where = f"eventList.{index + 1}"
    properties = parse_properties(event.get("properties"), where)
    # AWS's documented form puts itemId and eventValue in properties too.
    item_id = event.get("itemId") or properties.pop("itemId", None)
    event_value = event.get("eventValue")
    if "eventValue" in properties:
        event_value = _number(properties.pop("eventValue"), "eventValue", where)
    row = {"USER_ID": user_id, "SESSION_ID": session_id, "ITEM_ID": item_id,
           "TIMESTAMP": event["sentAt"], "EVENT_TYPE": event["eventType"],
           "EVENT_VALUE": event_value,
           "IMPRESSION": "|".join(event.get("impression") or []),
           "RECOMMENDATION_ID": event.get("recommendationId"),
           "EVENT_ID": event.get("eventId")}
    attribution = event.get("metricAttribution")
    if attribution:
        row["EVENT_ATTRIBUTION_SOURCE"] = attribution["eventAttributionSource"]
    row.update(schema_values(properties, schema, where, _EVENT_MEMBER_FIELDS))
    if schema is not None and item_id is None and "ITEM_ID" in schema:
        raise InvalidInputException(f"{where}: itemId is required by the Interactions "
                                    "dataset schema.")
    return row


# AWS accepts these action interaction event types (any case, space or underscore).
_ACTION_EVENT_TYPES = {"taken", "not taken", "viewed"}


def _action_event_type(value: str) -> str | None:
    normal = value.strip().lower().replace("_", " ")
    return normal if normal in _ACTION_EVENT_TYPES else None


class EventsProvider:
    def __init__(self, backend):
        self.backend = backend
        self.registry = backend.registry
        self.schemas = SchemaCache(self.registry)
        self._trackers: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    # -- trackers ------------------------------------------------------------------------
    def _tracker(self, tracking_id: str, ctx) -> dict:
        """The caller's tracker for a trackingId (another account's or region's is not
        found). Cached for a moment: finding it means listing every tracker, which
        PutEvents must not do on each call."""
        tracker = self._any_tracker(tracking_id)
        if not tracker["eventTrackerArn"].startswith(ctx.arn_prefix + ":"):
            raise ResourceNotFoundException(f"The tracking ID {tracking_id} does not exist.")
        return tracker

    def _any_tracker(self, tracking_id: str) -> dict:
        now = time.monotonic()
        hit = self._trackers.get(tracking_id)
        if hit is not None and now - hit[0] < _TRACKER_TTL_SECONDS:
            return hit[1]
        # Across accounts: the tracking id alone names the tracker.
        trackers = self.registry.list_all(
            kinds.EVENT_TRACKER,
            lambda doc: doc["trackingId"] == tracking_id and not_deleted(doc))
        if not trackers:
            raise ResourceNotFoundException(f"The tracking ID {tracking_id} does not exist.")
        tracker = trackers[0]
        with self._lock:
            self._trackers[tracking_id] = (now, tracker)
        return tracker

    # -- interactions --------------------------------------------------------------------
    def put_events(self, ctx, trackingId, sessionId, eventList, userId=None):
        group = self._tracker(trackingId, ctx)["datasetGroupArn"]
        schema = self.schemas.fields(group).get("Interactions")
        rows = [event_row(e, userId, sessionId, i, schema) for i, e in enumerate(eventList)]
        if userId:  # anonymous events of this session now belong to the user
            self.backend.events.append_user_events(group, rows, sessionId, userId)
        else:
            self.backend.events.append_events(group, rows)
        return {}

    def put_action_interactions(self, ctx, trackingId, actionInteractions):
        group = self._tracker(trackingId, ctx)["datasetGroupArn"]
        schema = self.schemas.fields(group).get("Action_Interactions")
        rows = []
        for index, interaction in enumerate(actionInteractions):
            where = f"actionInteractions.{index + 1}"
            if _action_event_type(interaction["eventType"]) is None:
                raise InvalidInputException(
                    f"{where}.eventType must be one of Taken, Not Taken, Viewed; got "
                    f"{interaction['eventType']!r}.")
            properties = parse_properties(interaction.get("properties"), where)
            row = {"USER_ID": interaction.get("userId"),
                   "SESSION_ID": interaction["sessionId"],
                   "ACTION_ID": interaction["actionId"],
                   "TIMESTAMP": interaction["timestamp"],
                   "EVENT_TYPE": interaction["eventType"],
                   "IMPRESSION": "|".join(interaction.get("impression") or []),
                   "RECOMMENDATION_ID": interaction.get("recommendationId"),
                   "EVENT_ID": interaction.get("eventId")}
            row.update(schema_values(properties, schema, where, _ACTION_MEMBER_FIELDS))
            rows.append(row)
        self.backend.events.append_events(group + ACTION_INTERACTIONS_SUFFIX, rows)
        return {}

    # -- records -------------------------------------------------------------------------
    def _put_records(self, dataset_arn, records, id_key, id_field, dataset_type, where):
        dataset = self.registry.find(kinds.DATASET, dataset_arn)
        if dataset is None or not not_deleted(dataset):
            raise ResourceNotFoundException(f"Could not find dataset {dataset_arn}.")
        if dataset["status"] != "ACTIVE":
            raise ResourceInUseException(
                f"Dataset {dataset_arn} is {dataset['status']}, not ACTIVE.")
        if dataset["datasetType"] != dataset_type:
            raise InvalidInputException(
                f"Dataset {dataset_arn} is a {dataset['datasetType']} dataset, "
                f"not {dataset_type}.")
        schema = self.schemas.fields(dataset["datasetGroupArn"]).get(dataset_type)
        rows = []
        for index, record in enumerate(records):
            properties = parse_properties(record.get("properties"), f"{where}.{index + 1}")
            rows.append({id_field: record[id_key],
                         **schema_values(properties, schema, f"{where}.{index + 1}",
                                         {id_field})})
        self.backend.events.upsert_records(dataset_arn, id_field, rows)
        changes.publish(dataset["datasetGroupArn"], dataset_type, rows)
        return {}

    def put_items(self, ctx, datasetArn, items):
        return self._put_records(datasetArn, items, "itemId", "ITEM_ID", "Items", "items")

    def put_users(self, ctx, datasetArn, users):
        return self._put_records(datasetArn, users, "userId", "USER_ID", "Users", "users")

    def put_actions(self, ctx, datasetArn, actions):
        return self._put_records(datasetArn, actions, "actionId", "ACTION_ID", "Actions",
                                 "actions")

