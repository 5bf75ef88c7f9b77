"""Automatic updates on LocalStack's EventBridge, as the deployed stack runs them on AWS's
(app.py's two-hourly schedule) instead of the sidecar's own timer.

Installed when the sidecar starts, in LocalStack's default account and region:
- rule `personalize-automatic-updates`, `rate(2 hours)` (PERSONALIZE_AUTO_UPDATE_SCHEDULE);
- rule `personalize-automatic-updates-now`, matching events of source
  `personalize.automatic-updates`: `aws events put-events` runs a round at once;
- both target an API destination (and its connection) that POSTs to LocalStack's own
  ROUTE, which hands the call to the sidecar's POST /_personalize/automatic-updates.
The connection carries a token made for this LocalStack process; ROUTE refuses calls
without it.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time

LOG = logging.getLogger(__name__)
NAME = "personalize-automatic-updates"
NOW_RULE = NAME + "-now"
NOW_SOURCE = "personalize.automatic-updates"
ROUTE = "/_personalize/automatic-updates"
TOKEN_HEADER = "x-personalize-schedule"
TOKEN = secrets.token_urlsafe(24)
ROLE = "arn:aws:iam::000000000000:role/personalize-automatic-updates"
INSTALL_TIMEOUT = 120.0


def schedule_expression() -> str:
    return os.environ.get("PERSONALIZE_AUTO_UPDATE_SCHEDULE", "rate(2 hours)")


def _events():
    from localstack.aws.connect import connect_to
    from localstack.constants import AWS_REGION_US_EAST_1, DEFAULT_AWS_ACCOUNT_ID
    return connect_to(aws_access_key_id=DEFAULT_AWS_ACCOUNT_ID,
                      region_name=AWS_REGION_US_EAST_1).events


def install() -> None:
    """Create (or re-create) the rules, the API destination and its connection."""
    from localstack import config
    events = _events()
    for rule in (NAME, NOW_RULE):
        try:
            events.remove_targets(Rule=rule, Ids=["sidecar"])
            events.delete_rule(Name=rule)
        except events.exceptions.ResourceNotFoundException:
            pass
    for delete, name in ((events.delete_api_destination, NAME),
                         (events.delete_connection, NAME)):
        try:
            delete(Name=name)
        except events.exceptions.ResourceNotFoundException:
            pass
    connection = events.create_connection(
        Name=NAME, AuthorizationType="API_KEY", AuthParameters={"ApiKeyAuthParameters": {
            "ApiKeyName": TOKEN_HEADER, "ApiKeyValue": TOKEN}})["ConnectionArn"]
    destination = events.create_api_destination(
        Name=NAME, ConnectionArn=connection, HttpMethod="POST",
        InvocationEndpoint=f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{ROUTE}",
    )["ApiDestinationArn"]
    events.put_rule(Name=NAME, ScheduleExpression=schedule_expression(),
                    Description="Personalize automatic updates (new items, exploration)")
    events.put_rule(Name=NOW_RULE, EventPattern=json.dumps({"source": [NOW_SOURCE]}),
                    Description="Personalize automatic updates, on demand")
    for rule in (NAME, NOW_RULE):
        events.put_targets(Rule=rule, Targets=[{"Id": "sidecar", "Arn": destination,
                                                "RoleArn": ROLE}])
    LOG.info("Personalize automatic updates on EventBridge: rule %s (%s), %s on demand",
             NAME, schedule_expression(), NOW_RULE)


def install_in_background() -> threading.Thread:
    """The rules are made through LocalStack's own gateway, which may still be starting
    (eager service loading): retried until EventBridge answers."""
    def run():
        deadline = time.monotonic() + INSTALL_TIMEOUT
        while True:
            try:
                install()
                return
            except Exception as error:  # noqa: BLE001 - events not up yet, retried
                if time.monotonic() > deadline:
                    LOG.error("could not install the automatic-updates rules: %s", error)
                    return
                time.sleep(1.0)
    thread = threading.Thread(target=run, daemon=True, name="personalize-schedule")
    thread.start()
    return thread


def route(sidecar):
    """LocalStack's handler for ROUTE: the API destination's call, to the sidecar."""
    from localstack.http import Response

    def automatic_updates(request, **_):
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), TOKEN):
            return Response(json.dumps({"message": "Forbidden"}), status=403,
                            mimetype="application/json")
        answer = sidecar.admin_post(ROUTE)
        LOG.info("Personalize automatic updates via EventBridge: %s", answer.data.decode())
        return Response(answer.data, status=answer.status, mimetype="application/json")
    return automatic_updates
