"""The ECS training runner against moto's ECS (moto_server fixture): RunTask with the
version's ARN as the command override; stopped or failed tasks settle the version."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest

from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.resources import kinds
from chalicelib.resources.registry import CREATE_IN_PROGRESS, CREATE_STOPPING
from chalicelib.training.ecs_runner import EcsRunner, failure_of, task_seconds, task_vcpus
from tests.deploy.conftest import load_event

REGION = "us-east-1"
ACCOUNT = "000000000000"


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def ecs_world(moto_server):
    """A cluster, a Fargate task definition and a subnet, uniquely named per test."""
    endpoint = moto_server.endpoint_url
    ec2, ecs = client("ec2", endpoint), client("ecs", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/20")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"training-{uuid.uuid4().hex[:8]}",
                                      Description="training", VpcId=vpc)["GroupId"]
    cluster = f"personalize-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    family = f"personalize-training-{uuid.uuid4().hex[:8]}"
    ecs.register_task_definition(
        # Not awsvpc: moto 5.2.1 fails RunTask building the network interface (its
        # NetworkInterface lacks private_dns_name). The awsvpc arguments are checked below.
        family=family, networkMode="bridge",  # (moto makes any FARGATE definition awsvpc)
        cpu="1024", memory="2048",
        # moto sums container-level cpu/memory (AWS takes the task-level ones alone).
        containerDefinitions=[{"name": "training", "image": "personalize-training:test",
                               "cpu": 1024, "memory": 2048,
                               "essential": True}])
    return {"endpoint": endpoint, "ecs": ecs, "cluster": cluster, "family": family,
            "subnet": subnet, "group": group}


@pytest.fixture
def backend(tmp_path, ecs_world, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = Settings(data_dir=tmp_path, region=REGION, account_id=ACCOUNT,
                        settle_seconds=0, training_runner="ecs",
                        ecs_cluster=ecs_world["cluster"],
                        ecs_task_definition=ecs_world["family"],
                        ecs_endpoint_url=ecs_world["endpoint"])
    return build_backend(settings)


def new_version(backend, status=CREATE_IN_PROGRESS, created=None) -> str:
    arn = (f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/retail/"
           f"{uuid.uuid4().hex[:8]}")
    now = time.time() if created is None else created
    backend.store.create(kinds.SOLUTION_VERSION.key, arn, {
        "solutionVersionArn": arn, "solutionArn": arn.rsplit("/", 1)[0], "status": status,
        "trainingMode": "FULL", "creationDateTime": now, "lastUpdatedDateTime": now})
    return arn


def version(backend, arn) -> dict:
    return backend.store.get(kinds.SOLUTION_VERSION.key, arn)


def describe(ecs_world, task_arn) -> dict:
    return ecs_world["ecs"].describe_tasks(cluster=ecs_world["cluster"],
                                           tasks=[task_arn])["tasks"][0]


def test_make_runner_picks_ecs(backend):
    assert isinstance(backend.tasks.training, EcsRunner)


def test_run_task_overrides_the_command_with_the_version_arn(backend, ecs_world):
    arn = new_version(backend)
    backend.tasks.start_training(arn)
    task_arn = version(backend, arn)["_ecsTaskArn"]
    task = describe(ecs_world, task_arn)
    (container,) = task["overrides"]["containerOverrides"]
    assert container["name"] == "training"
    assert container["command"] == ["--solution-version-arn", arn]
    # the task definition's vCPUs (cpu 1024) are the task's threads for torch and BLAS
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["PERSONALIZE_TRAINING_THREADS"] == "1"
    assert environment["OMP_NUM_THREADS"] == environment["MKL_NUM_THREADS"] == "1"
    assert task["launchType"] == "FARGATE"
    assert task["startedBy"] == "personalize-training"
    assert task["taskDefinitionArn"].split("/")[-1].startswith(ecs_world["family"])
    assert version(backend, arn)["status"] == CREATE_IN_PROGRESS


def test_fargate_network_configuration(backend, ecs_world):
    backend.settings.ecs_subnets = [ecs_world["subnet"]]
    backend.settings.ecs_security_groups = [ecs_world["group"]]
    args = backend.tasks.training._run_task_args("arn:x")
    assert args["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": [ecs_world["subnet"]], "securityGroups": [ecs_world["group"]],
        "assignPublicIp": "ENABLED"}}


def test_stopped_task_with_nonzero_exit_fails_the_version(backend, ecs_world):
    arn = new_version(backend)
    backend.tasks.start_training(arn)
    task_arn = version(backend, arn)["_ecsTaskArn"]
    ecs_world["ecs"].stop_task(cluster=ecs_world["cluster"], task=task_arn,
                               reason="Essential container in task exited")
    task = describe(ecs_world, task_arn)
    assert task["lastStatus"] == "STOPPED"
    # moto reports exit code 0 for every container: the crash's exit code is set here.
    task["containers"][0]["exitCode"] = 139
    backend.tasks.training.task_stopped(task)
    failed = version(backend, arn)
    assert failed["status"] == "CREATE FAILED"
    assert "exited with code 139" in failed["failureReason"]
    assert "Essential container in task exited" in failed["failureReason"]


def test_recover_asks_describe_tasks_and_fails_unfinished_versions(backend, ecs_world):
    finished, running = new_version(backend), new_version(backend)
    backend.tasks.start_training(finished)
    backend.tasks.start_training(running)
    ecs_world["ecs"].stop_task(cluster=ecs_world["cluster"],
                               task=version(backend, finished)["_ecsTaskArn"],
                               reason="Task stopped by user")
    backend.tasks.recover()
    # The task stopped without the version recording a result: failed.
    assert version(backend, finished)["status"] == "CREATE FAILED"
    assert "Task stopped by user" in version(backend, finished)["failureReason"]
    # Its neighbour's task still runs: untouched.
    assert version(backend, running)["status"] == CREATE_IN_PROGRESS


def test_recover_fails_a_version_whose_task_never_started(backend):
    lost = new_version(backend, created=time.time() - 3600)
    fresh = new_version(backend)
    backend.tasks.recover()
    assert version(backend, lost)["status"] == "CREATE FAILED"
    assert version(backend, fresh)["status"] == CREATE_IN_PROGRESS


def test_stop_calls_stop_task_and_settles_stopped(backend, ecs_world):
    arn = new_version(backend)
    backend.tasks.start_training(arn)
    backend.store.update(kinds.SOLUTION_VERSION.key, arn,
                         lambda doc: {**doc, "status": CREATE_STOPPING})
    backend.tasks.stop_training(arn)
    assert describe(ecs_world, version(backend, arn)["_ecsTaskArn"])["lastStatus"] == "STOPPED"
    assert version(backend, arn)["status"] == "CREATE STOPPED"


def test_run_task_failure_fails_the_version(backend, ecs_world):
    backend.settings.ecs_task_definition = "no-such-task-definition"
    arn = new_version(backend)
    backend.tasks.start_training(arn)
    failed = version(backend, arn)
    assert failed["status"] == "CREATE FAILED"
    assert failed["failureReason"].startswith("Could not start the training task")


def test_task_state_change_event_through_the_app(tmp_path, monkeypatch, moto_server):
    """events/ecs_training_task_stopped.json (exit 137, out of memory) via the handler."""
    import app as app_module
    from chalice.test import Client
    event = load_event("ecs_training_task_stopped.json")
    arn = event["detail"]["overrides"]["containerOverrides"][0]["command"][1]
    for name, value in {"PERSONALIZE_DATA_DIR": str(tmp_path), "PERSONALIZE_STORE": "sqlite",
                        "PERSONALIZE_TRAINING_RUNNER": "ecs",
                        "PERSONALIZE_ECS_ENDPOINT_URL": moto_server.endpoint_url,
                        "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(app_module, "_built", None)
    backend = app_module.built()[1]
    backend.store.create(kinds.SOLUTION_VERSION.key, arn, {
        "solutionVersionArn": arn, "solutionArn": arn.rsplit("/", 1)[0],
        "status": CREATE_IN_PROGRESS, "creationDateTime": time.time()})
    # No .chalice here: the test client adds no stage variables over the ones above.
    with Client(app_module.app, stage_name="test", project_dir=str(tmp_path)) as chalice:
        payload = chalice.lambda_.invoke("training_task_stopped", event).payload
    assert payload == {"solutionVersionArn": arn, "status": "CREATE FAILED"}
    failed = version(backend, arn)
    assert "exited with code 137" in failed["failureReason"]
    assert "OutOfMemoryError" in failed["failureReason"]
    app_module._built = None


def test_failure_and_duration_from_an_event_detail():
    detail = load_event("ecs_training_task_stopped.json")["detail"]
    assert failure_of(detail).startswith("Training task exited with code 137.")
    assert task_seconds(detail) == pytest.approx(2426.358)
    clean = {**detail, "containers": [{**detail["containers"][0], "exitCode": 0}]}
    assert failure_of(clean) is None


def test_task_vcpus_from_a_task_definition():
    assert task_vcpus({"cpu": "4096"}) == 4
    assert task_vcpus({"cpu": "512"}) == 1          # a fraction of a vCPU still runs a thread
    assert task_vcpus({"cpu": "2 vCPU"}) == 2
    assert task_vcpus({"containerDefinitions": [{"cpu": 1024}, {"cpu": 1024}]}) == 2
    assert task_vcpus({"containerDefinitions": [{"name": "x"}]}) is None
