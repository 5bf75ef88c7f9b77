"""Versions created at once share the training cores: on an endpoint given two, the first
two start together on one thread each and the third waits in CREATE PENDING until a core
is free. Every task log has a line within 2 s of the task's start, then at least one every
10 s, naming the phase."""
import pytest

from chalicelib.storage.artifacts import arn_key
from chalicelib.training.task_log import read_log
from tests.api.builders import build_group, ready
from tests.conftest import Endpoint

UP = "arn:aws:personalize:::recipe/aws-user-personalization"


@pytest.fixture(scope="module")
def two_cores(tmp_path_factory):
    server = Endpoint(tmp_path_factory.mktemp("two-cores"), env={
        "PERSONALIZE_TRAINING_CORES": "2", "PERSONALIZE_TRAINING_GATHER_SECONDS": "1"}).start()
    yield server
    server.stop()


def task_log(endpoint, arn):
    path = endpoint.data_dir / "artifacts" / "logs" / f"{arn_key(arn)}.log"
    return read_log(path.read_text())


def make_solution(personalize, group, n):
    arn = personalize.create_solution(
        name=f"schedule-{n}", datasetGroupArn=group, recipeArn=UP,
        solutionConfig={"algorithmHyperParameters": {"epochs": "2"}})["solutionArn"]
    ready(lambda: personalize.describe_solution(solutionArn=arn), ["solution", "status"])
    return arn


@pytest.mark.timeout(600)
def test_versions_share_the_cores_in_order_and_log_their_progress(two_cores):
    personalize = two_cores.client("personalize")
    group = build_group(personalize, two_cores.client("s3"), "schedule")["group"]
    solutions = [make_solution(personalize, group, n) for n in range(4)]
    *versions, stopped = [personalize.create_solution_version(
        solutionArn=s)["solutionVersionArn"] for s in solutions]
    # Created back to back: they wait in CREATE PENDING while they gather, and beyond the
    # first two for a free core. The fourth is stopped while it waits: it never starts.
    assert personalize.describe_solution_version(solutionVersionArn=versions[2])[
        "solutionVersion"]["status"] == "CREATE PENDING"
    personalize.stop_solution_version_creation(solutionVersionArn=stopped)
    for version in versions:
        ready(lambda: personalize.describe_solution_version(solutionVersionArn=version),
              ["solutionVersion", "status"], timeout=500)
    assert personalize.describe_solution_version(solutionVersionArn=stopped)[
        "solutionVersion"]["status"] == "CREATE STOPPED"
    assert [f["phase"] for _, f in task_log(two_cores, stopped)] == ["queued"]

    logs = [task_log(two_cores, v) for v in versions]
    launched = [next((t, f) for t, f in log if f["phase"] == "launching") for log in logs]
    done = [next(t for t, f in log if f["phase"] == "done") for log in logs]
    # the first two started together on one thread each; the third, in its turn, took the
    # core the first to finish gave back, never before
    assert [int(f["threads"]) for _, f in launched] == [1, 1, 1]
    assert launched[0][0] <= launched[1][0] < launched[2][0]
    assert launched[2][0] >= min(done[:2])
    for log, (start, grant) in zip(logs, launched):
        own = [(t, f) for t, f in log if t >= start and f["phase"] != "launching"]
        assert own[0][1]["phase"] == "starting" and own[0][0] - start < 2.0
        times = [start] + [t for t, _ in own]
        assert max(b - a for a, b in zip(times, times[1:])) <= 10.0
        phases = [f["phase"] for _, f in own]
        for phase in ("loading", "featurising", "training", "scoring", "saving", "done"):
            assert phase in phases, phases
        epochs = [f for _, f in own if f.get("epoch")]
        assert {f["epoch"] for f in epochs} == {"1/2", "2/2"}
        # torch in the task runs on the threads it was granted
        assert {f["threads"] for _, f in own if f["phase"] == "training"} == {grant["threads"]}
