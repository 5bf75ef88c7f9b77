"""kill -9 at the worst moments, then a restart on the same data folder: every resource is
still there, nothing stays IN_PROGRESS, imports resume, and every PutEvents answered 200
is stored. Each test runs its own server(s) on a tmp data folder."""
from __future__ import annotations

import os
import signal
import threading

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import Endpoint, wait_for
from tests.reliability import store
from tests.reliability.flows import (big_interactions, event_batch, event_tracker,
                                     interactions_import, poll, record_status, restart,
                                     trainable_group)

FAULTS = []   # what was injected, printed at the end of the module


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\ncrash faults injected: {len(FAULTS)}: " + "; ".join(FAULTS))


# -- training ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """One server with a trainable group; tests replace state['endpoint'] on restart."""
    state = {"endpoint": Endpoint(tmp_path_factory.mktemp("crash-training")).start()}
    # quick: trained to the end; slow: still training when its task is killed
    state.update(trainable_group(state["endpoint"], "crash", {"quick": 1, "slow": 500}))
    yield state
    state["endpoint"].stop()


def running_task(state, solution="slow") -> tuple[str, int]:
    """Start a solution version; (its arn, its task pid) once the task is training."""
    personalize = state["endpoint"].client("personalize")
    arn = personalize.create_solution_version(solutionArn=state[solution])[
        "solutionVersionArn"]
    data_dir = state["endpoint"].data_dir
    doc = poll(lambda: (d := store.resource(data_dir, arn)) and d.get("_taskPid")
               and d["status"] == "CREATE IN_PROGRESS" and d, timeout=120,
               what="the training task to start")
    return arn, doc["_taskPid"]


def settled_version(state, arn) -> dict:
    personalize = state["endpoint"].client("personalize")
    describe = lambda: personalize.describe_solution_version(solutionVersionArn=arn)
    status = wait_for(describe, ["solutionVersion", "status"], timeout=300)
    version = describe()["solutionVersion"]
    assert status in ("ACTIVE", "CREATE FAILED"), version
    assert status == "ACTIVE" or version.get("failureReason"), version
    return version


def all_present(state):
    personalize = state["endpoint"].client("personalize")
    personalize.describe_dataset_group(datasetGroupArn=state["group"])
    personalize.describe_dataset(datasetArn=state["Interactions"])
    personalize.describe_solution(solutionArn=state["quick"])
    personalize.describe_solution(solutionArn=state["slow"])
    assert personalize.list_dataset_import_jobs(datasetArn=state["Interactions"])[
        "datasetImportJobs"][0]["status"] == "ACTIVE"


def test_server_killed_during_training_the_task_finishes_on_its_own(training):
    arn, pid = running_task(training, "quick")
    training["endpoint"].stop(kill=True)
    FAULTS.append("kill -9 server during training")
    survived = _process_exists(pid)
    training["endpoint"] = Endpoint(training["endpoint"].data_dir).start()
    all_present(training)
    version = settled_version(training, arn)
    print(f"\nserver killed during training (task survived it: {survived}): version ended "
          f"{version['status']}")


def test_task_killed_during_training_fails_the_version(training):
    arn, pid = running_task(training)
    os.kill(pid, signal.SIGKILL)
    FAULTS.append("kill -9 training task")
    version = settled_version(training, arn)
    assert version["status"] == "CREATE FAILED"
    assert "killed by signal 9" in version["failureReason"]


def test_task_killed_after_its_server_restarted_fails_the_version(training):
    """The restarted server adopts the surviving task and notices when it dies."""
    arn, pid = running_task(training)
    training["endpoint"] = restart(training["endpoint"])
    os.kill(pid, signal.SIGKILL)
    FAULTS.append("kill -9 server, restart, kill -9 the surviving task")
    version = settled_version(training, arn)
    assert version["status"] == "CREATE FAILED", version


def test_a_surviving_task_can_be_stopped_after_a_restart(training):
    arn, pid = running_task(training)
    training["endpoint"] = restart(training["endpoint"])
    FAULTS.append("kill -9 server, restart, StopSolutionVersionCreation")
    personalize = training["endpoint"].client("personalize")
    personalize.stop_solution_version_creation(solutionVersionArn=arn)
    poll(lambda: not _process_exists(pid), what="the stopped task to end")
    assert wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=arn),
                    ["solutionVersion", "status"], done=("CREATE STOPPED",)) == "CREATE STOPPED"


def test_task_killed_while_the_server_is_down_fails_the_version(training):
    arn, pid = running_task(training)
    training["endpoint"].stop(kill=True)
    os.kill(pid, signal.SIGKILL)
    FAULTS.append("kill -9 server and task, then restart")
    poll(lambda: not _process_exists(pid), what="the task to be gone")
    training["endpoint"] = Endpoint(training["endpoint"].data_dir).start()
    version = settled_version(training, arn)
    assert version["status"] == "CREATE FAILED"
    all_present(training)


def _process_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# -- imports -------------------------------------------------------------------------
@pytest.fixture()
def outside_s3():
    """An S3 that outlives the Personalize server (the embedded one dies with it)."""
    from moto.server import ThreadedMotoServer
    from tests.conftest import _free_port
    port = _free_port()
    server = ThreadedMotoServer(port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_server_killed_during_an_import_resumes_it(tmp_path, outside_s3):
    s3 = boto3.client("s3", endpoint_url=outside_s3, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    rows = 400_000
    s3.create_bucket(Bucket="crash")
    s3.put_object(Bucket="crash", Key="big.csv", Body=big_interactions(rows))
    env = {"PERSONALIZE_S3_ENDPOINT_URL": outside_s3}
    endpoint = Endpoint(tmp_path, env).start()
    try:
        personalize = endpoint.client("personalize")
        arns = interactions_import(personalize, "crash", "s3://crash/big.csv")
        schema, group, dataset, job = arns["schema"], arns["group"], arns["dataset"], arns["job"]
        folder = tmp_path / "artifacts" / "datasets"
        poll(lambda: any(p.stat().st_size > 1_000_000 for p in folder.rglob("*.partial")),
             what="the import to be half-way")
        assert record_status(tmp_path, job) == "CREATE IN_PROGRESS"
        endpoint = restart(endpoint)
        FAULTS.append("kill -9 server during an import")
        personalize = endpoint.client("personalize")
        describe = lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job)
        assert wait_for(describe, ["datasetImportJob", "status"], timeout=120) == "ACTIVE", \
            describe()
        files = list(folder.rglob("*.csv"))
        assert len(files) == 1 and not list(folder.rglob("*.partial"))
        with open(files[0]) as imported:
            assert sum(1 for _ in imported) == rows + 1
        for arn, call in ((group, "describe_dataset_group"), (dataset, "describe_dataset"),
                          (schema, "describe_schema")):
            key = {"describe_dataset_group": "datasetGroupArn",
                   "describe_dataset": "datasetArn", "describe_schema": "schemaArn"}[call]
            getattr(personalize, call)(**{key: arn})
    finally:
        endpoint.stop()


# -- events --------------------------------------------------------------------------
def test_server_killed_during_a_putevents_burst_loses_no_acknowledged_event(tmp_path):
    endpoint = Endpoint(tmp_path).start()
    personalize = endpoint.client("personalize")
    group = personalize.create_dataset_group(name="burst")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    tracker = event_tracker(personalize, group, "burst")
    acknowledged, sent, lock = set(), [0], threading.Lock()
    enough = threading.Event()

    def sender(number):
        events = endpoint.client("personalize-events")
        for batch in range(10_000):
            batch_events = event_batch(f"t{number}-b{batch}", 5)
            with lock:
                sent[0] += len(batch_events)
            try:
                events.put_events(trackingId=tracker["trackingId"], userId=f"u{number}",
                                  sessionId=f"s{number}", eventList=batch_events)
            except (BotoCoreError, ClientError):
                return   # the server is gone: this request's fate is unknown
            with lock:
                acknowledged.update(e["eventId"] for e in batch_events)
                if len(acknowledged) >= 400:
                    enough.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert enough.wait(60)
    endpoint.stop(kill=True)
    FAULTS.append("kill -9 server during a PutEvents burst")
    for thread in threads:
        thread.join(30)
    stored = store.event_ids(tmp_path)
    print(f"\nPutEvents burst: {sent[0]} events sent, {len(acknowledged)} acknowledged (200), "
          f"{len(stored)} stored")
    assert acknowledged <= stored
    endpoint = restart(endpoint)
    try:
        endpoint.client("personalize").describe_event_tracker(
            eventTrackerArn=tracker["eventTrackerArn"])
        endpoint.client("personalize-events").put_events(
            trackingId=tracker["trackingId"], userId="after", sessionId="after",
            eventList=event_batch("after", 3))
        assert store.count_events(tmp_path) == len(stored) + 3
    finally:
        endpoint.stop()
