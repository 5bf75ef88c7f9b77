"""Steps the crash and concurrency tests share: endpoints on a data folder that survive
restarts, polling, and a dataset group ready to train or to receive events."""
from __future__ import annotations

import time
from pathlib import Path

from tests.api.builders import build_group, ready
from tests.conftest import Endpoint
from tests.reliability import store


def restart(endpoint: Endpoint, env: dict | None = None) -> Endpoint:
    """A new server process on the same data folder (kill -9 or not, the old one is gone)."""
    endpoint.stop(kill=True)
    return Endpoint(endpoint.data_dir, env or _own_env(endpoint)).start()


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
