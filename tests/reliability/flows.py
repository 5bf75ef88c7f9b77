"""Steps the crash and concurrency tests share: endpoints on a data folder that survive
restarts, polling, and a dataset group ready to train or to receive events."""
from __future__ import annotations

import time
from pathlib import Path

import json

from tests.api.builders import INTERACTIONS_SCHEMA, ROLE, build_group, ready
from tests.conftest import Endpoint
from tests.reliability import store


def restart(endpoint: Endpoint, env: dict | None = None) -> Endpoint:
    """A new server process on the same data folder (kill -9 or not, the old one is gone)."""
    endpoint.stop(kill=True)
    return Endpoint(endpoint.data_dir, env or _own_env(endpoint)).start()


def keyed_endpoint(data_dir: Path, keys: str):
    """A started endpoint that verifies SigV4 against `keys` (PERSONALIZE_ACCESS_KEYS:
    KEY:SECRET:ACCOUNT,...), stopped when the generator ends: a module fixture's body."""
    endpoint = Endpoint(data_dir, {"PERSONALIZE_ACCESS_KEYS": keys}).start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _own_env(endpoint: Endpoint) -> dict:
    return {k: v for k, v in endpoint.env.items() if k.startswith("PERSONALIZE_")}


def client_at(url: str, service: str, **kwargs):
    """A boto3 client for a server known only by its URL (e.g. in a forked sender),
    configured as Endpoint.client configures it."""
    endpoint = Endpoint.__new__(Endpoint)
    endpoint.url = url
    return endpoint.client(service, **kwargs)


def poll(condition, timeout: float = 60, every: float = 0.05, what: str = "condition"):
    """condition() until it is truthy; its value. AssertionError after `timeout`."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def record_status(data_dir: Path, arn: str) -> str | None:
    doc = store.resource(data_dir, arn)
    return doc and doc["status"]


def event_tracker(personalize, group: str, name: str) -> dict:
    tracker = personalize.create_event_tracker(name=name, datasetGroupArn=group)
    ready(lambda: personalize.describe_event_tracker(
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])
    return tracker


def trainable_group(endpoint: Endpoint, name: str, epochs: dict[str, int]) -> dict:
    """A dataset group with imported interactions and one solution per entry of
    `epochs` (label -> training epochs), none trained yet."""
    personalize, s3 = endpoint.client("personalize"), endpoint.client("s3")
    out = build_group(personalize, s3, name)
    for label, count in epochs.items():
        out[label] = arn = personalize.create_solution(
            name=f"{name}-{label}", datasetGroupArn=out["group"],
            recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
            solutionConfig={"algorithmHyperParameters": {"epochs": str(count)}}
        )["solutionArn"]
        ready(lambda: personalize.describe_solution(solutionArn=arn), ["solution", "status"])
    return out


def event_batch(prefix: str, count: int) -> list[dict]:
    return [{"eventType": "click", "itemId": f"i{k % 60}", "eventId": f"{prefix}-{k}",
             "sentAt": time.time()} for k in range(count)]


def big_interactions(rows: int) -> bytes:
    """An Interactions CSV of `rows` rows (an import that takes a while)."""
    lines = ["USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE"]
    lines += [f"u{k % 500},i{k * 7 % 997},click,{1_700_000_000 + k},1.0" for k in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def interactions_import(personalize, name: str, location: str) -> dict:
    """Schema, dataset group, Interactions dataset (ACTIVE) and an import job from
    `location`, all named `name`; their ARNs by kind."""
    schema = personalize.create_schema(name=name, schema=json.dumps(
        INTERACTIONS_SCHEMA))["schemaArn"]
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    ready(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
          ["datasetGroup", "status"])
    dataset = personalize.create_dataset(name=name, schemaArn=schema, datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    ready(lambda: personalize.describe_dataset(datasetArn=dataset), ["dataset", "status"])
    job = personalize.create_dataset_import_job(
        jobName=name, datasetArn=dataset, roleArn=ROLE,
        dataSource={"dataLocation": location})["datasetImportJobArn"]
    return {"schema": schema, "group": group, "dataset": dataset, "job": job}
