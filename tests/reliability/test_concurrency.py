"""Races through the real server: parallel creates of one name, a delete racing
describes, and PutEvents from many threads and processes at once (none lost)."""
from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.conftest import wait_for
from tests.reliability import store
from tests.reliability.flows import client_at, event_batch, event_tracker, poll


def race(count: int, action):
    """Run action(i) for i < count, released together; (results, error codes)."""
    barrier = threading.Barrier(count)

    def attempt(i):
        barrier.wait()
        try:
            return "ok", action(i)
        except ClientError as error:
            return "error", code(error)
    with ThreadPoolExecutor(count) as pool:
        outcomes = list(pool.map(attempt, range(count)))
    return ([v for k, v in outcomes if k == "ok"], [v for k, v in outcomes if k == "error"])


@pytest.mark.parametrize("create", [
    lambda p, i: p.create_dataset_group(name="race-same-name"),
    lambda p, i: p.create_schema(name="race-same-name", schema=(
        '{"type": "record", "name": "Interactions", "namespace": '
        '"com.amazonaws.personalize.schema", "fields": [{"name": "USER_ID", "type": "string"},'
        ' {"name": "ITEM_ID", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],'
        ' "version": "1.0"}'))], ids=["dataset-group", "schema"])
def test_parallel_creates_of_one_name_have_exactly_one_winner(endpoint, create):
    clients = [endpoint.client("personalize") for _ in range(8)]
    wins, errors = race(8, lambda i: create(clients[i], i))
    assert len(wins) == 1, (wins, errors)
    assert errors == ["ResourceAlreadyExistsException"] * 7


def test_a_delete_racing_describes_is_never_a_server_error(endpoint):
    personalize = endpoint.client("personalize")
    group = personalize.create_dataset_group(name="race-delete")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    clients = [endpoint.client("personalize") for _ in range(6)]

    def act(i):
        if i == 0:
            return clients[0].delete_dataset_group(datasetGroupArn=group) and "deleted"
        seen = []
        for _ in range(30):
            try:
                seen.append(clients[i].describe_dataset_group(
                    datasetGroupArn=group)["datasetGroup"]["status"])
            except ClientError as error:
                seen.append(code(error))
        return seen
    results, errors = race(6, act)
    assert not errors, errors
    statuses = {s for r in results if isinstance(r, list) for s in r}
    assert statuses <= {"ACTIVE", "DELETE PENDING", "ResourceNotFoundException"}, statuses
    poll(lambda: _gone(personalize, group), what="the deleted group to vanish")


def _gone(personalize, group) -> bool:
    try:
        personalize.describe_dataset_group(datasetGroupArn=group)
    except ClientError as error:
        return code(error) == "ResourceNotFoundException"
    return False


BATCHES, BATCH = 40, 10


def _send(url_tracking_prefix):
    """One sender (thread or process): BATCHES PutEvents of BATCH events; acked count."""
    url, tracking_id, prefix = url_tracking_prefix
    events = client_at(url, "personalize-events")
    acked = 0
    for b in range(BATCHES):
        events.put_events(trackingId=tracking_id, userId=f"user-{prefix}",
                          sessionId=f"session-{prefix}",
                          eventList=event_batch(f"{prefix}-{b}", BATCH))
        acked += BATCH
    return acked


def test_putevents_from_many_threads_and_processes_loses_nothing(endpoint):
    personalize = endpoint.client("personalize")
    group = personalize.create_dataset_group(name="race-events")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    tracking = event_tracker(personalize, group, "race-events")["trackingId"]
    jobs = [(endpoint.url, tracking, f"thread{n}") for n in range(8)]
    process_jobs = [(endpoint.url, tracking, f"process{n}") for n in range(3)]
    with multiprocessing.get_context("fork").Pool(3) as processes, ThreadPoolExecutor(8) as threads:
        in_processes = processes.map_async(_send, process_jobs)
        acked = sum(threads.map(_send, jobs)) + sum(in_processes.get(120))
    sent = (len(jobs) + len(process_jobs)) * BATCHES * BATCH
    stored = store.count_events(endpoint.data_dir, group)
    print(f"\nconcurrent PutEvents: {sent} sent from 8 threads + 3 processes, {acked} "
          f"acknowledged, {stored} stored")
    assert acked == sent == stored
