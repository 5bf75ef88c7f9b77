"""Every sample event in events/ drives app.py through Chalice's test client."""
from __future__ import annotations

import json

import pytest
from chalice.test import LambdaContext

from tests.deploy.conftest import EVENTS, load_event

# What each API Gateway proxy event gets from a fresh, empty data folder. Runtime and
# events calls name resources that do not exist there: a 404 still proves routing,
# parsing, signing and the provider call.
API_STATUS = {
    "personalize_create_dataset_group.json": 200,
    "personalize_list_dataset_groups.json": 200,
    "personalize_list_recipes.json": 200,
    "personalize_describe_dataset_group_not_found.json": 400,
    "personalize_create_solution_invalid_input.json": 400,
    "personalize_unsigned_request.json": 403,
    "runtime_get_recommendations.json": 404,
    "runtime_get_personalized_ranking.json": 404,
    "events_put_events.json": 404,
    "events_put_items.json": 404,
}
HANDLER_EVENTS = {"scheduled_automatic_updates.json": "automatic_updates",
                  "ecs_training_task_stopped.json": "training_task_stopped"}


def test_every_event_file_is_covered():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted({**API_STATUS,
                                                                   **HANDLER_EVENTS})


@pytest.mark.parametrize("name", sorted(API_STATUS))
def test_api_event_through_test_client(local_client, name):
    event = load_event(name)
    response = local_client.http.request(event["httpMethod"], event["path"],
                                         headers=event["headers"],
                                         body=event["body"].encode())
    assert response.status_code == API_STATUS[name], response.body
    assert "x-amzn-RequestId" in response.headers


@pytest.mark.parametrize("name", sorted(API_STATUS))
def test_api_event_as_lambda_proxy_payload(chalice_app, name):
    """The raw event, as API Gateway hands it to the Lambda function."""
    result = chalice_app.app(load_event(name), LambdaContext("api_handler", 3008))
    assert result["statusCode"] == API_STATUS[name], result["body"]
    json.dumps(result)  # what Lambda does with it: must be JSON-serialisable
    assert isinstance(result["body"], str)


def test_scheduled_event_runs_automatic_updates(local_client, monkeypatch, chalice_app):
    rounds = []
    import chalicelib.scheduling.auto_update as auto_update
    monkeypatch.setattr(auto_update, "run_automatic_updates",
                        lambda backend: rounds.append(backend) or ["arn:updated"])
    payload = local_client.lambda_.invoke(
        "automatic_updates", load_event("scheduled_automatic_updates.json")).payload
    assert payload == {"updated": ["arn:updated"]}
    assert rounds == [chalice_app.built()[1]]


def test_scheduled_event_on_empty_store(local_client):
    payload = local_client.lambda_.invoke(
        "automatic_updates", load_event("scheduled_automatic_updates.json")).payload
    assert payload == {"updated": []}


def test_ecs_event_is_ignored_by_the_process_runner(local_client):
    payload = local_client.lambda_.invoke(
        "training_task_stopped", load_event("ecs_training_task_stopped.json")).payload
    assert payload == {"solutionVersionArn": None}


def test_request_log_line_carries_operation_and_arn(local_client, caplog):
    from chalicelib.observability import logger
    event = load_event("personalize_create_dataset_group.json")
    with caplog.at_level("INFO", logger="personalize"):
        local_client.http.request("POST", "/", headers=event["headers"],
                                  body=event["body"].encode())
    records = [r for r in caplog.records if r.getMessage() == "request"]
    assert records
    # The line CloudWatch gets: Powertools' JSON formatter over the same record.
    line = json.loads(logger.registered_formatter.format(records[-1]))
    assert line["operation"] == "CreateDatasetGroup" and line["level"] == "INFO"
    assert line["resource_arn"].endswith(":dataset-group/retail-demo")
    assert line["status"] == 200 and line["latency_ms"] >= 0
