"""Personalize on LocalStack's own port: a real LocalStack (host mode) with our provider
plugin (infra/localstack/plugin) answers all three Personalize services and S3 on one
endpoint, through boto3, `awslocal` and the `aws` CLI; its sidecar stops with it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.api.test_getting_started import getting_started_workflow, movielens_csv
from tests.support.services import (LOCALSTACK_PYTHON, free_port, localstack_process,
                                    stop_training_tasks)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("s3,events,secretsmanager,sts,iam,personalize,personalize-runtime,"
            "personalize-events")
ACCOUNT = "123456789012"


def plugin_installed() -> bool:
    if not LOCALSTACK_PYTHON.exists():
        return False
    return subprocess.run([LOCALSTACK_PYTHON, "-c", "import personalize_localstack.providers"],
                          capture_output=True, cwd="/").returncode == 0


@pytest.fixture(scope="module")
def localstack_with_personalize(tmp_path_factory):
    if not plugin_installed():
        message = ("LocalStack with the Personalize plugin is not installed in "
                   ".localstack-venv: run `make localstack`")
        if os.environ.get("LOCALSTACK_OPTIONAL") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    data = tmp_path_factory.mktemp("localstack-personalize")
    port = free_port()
    process = localstack_process(port, data, SERVICES, {
        "PERSONALIZE_DATA_DIR": str(data / "personalize"),
        "PERSONALIZE_SETTLE_SECONDS": "0.05", "EAGER_SERVICE_LOADING": "1",
        "PERSONALIZE_ROOT": str(ROOT)})   # the sidecar runs this checkout's code
    process.start()
    try:
        yield f"http://127.0.0.1:{port}", data
    finally:
        process.stop()
        stop_training_tasks(data / "personalize")
    # the sidecar went with LocalStack: nothing answers on its port any more
    log = (data / "personalize" / "sidecar.log").read_text()
    sidecar_port = int(log.rsplit("Ready on http://127.0.0.1:", 1)[1].split()[0])
    import socket
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", sidecar_port)) != 0, "sidecar outlived LocalStack"


def client(url: str, service: str, region: str = "us-east-1", key: str = "test"):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.timeout(900)
def test_getting_started_through_localstacks_port(localstack_with_personalize):
    url, data = localstack_with_personalize
    # ML-100K's first 100 users (about a tenth): the whole of it runs in
    # tests/api/test_getting_started.py already
    getting_started_workflow(*(client(url, s) for s in (
        "personalize", "personalize-runtime", "personalize-events", "s3")),
        data=movielens_csv(max_user=100))
    # the import read LocalStack's own S3: the bucket lives there, not in the sidecar
    assert "getting-started" in [b["Name"] for b in client(url, "s3").list_buckets()[
        "Buckets"]]


def test_account_and_region_come_from_localstacks_context(localstack_with_personalize):
    url, _ = localstack_with_personalize
    arn = client(url, "personalize", "eu-west-1", ACCOUNT).create_dataset_group(
        name="ls-context")["datasetGroupArn"]
    assert arn == f"arn:aws:personalize:eu-west-1:{ACCOUNT}:dataset-group/ls-context"
    assert "ls-context" not in json.dumps(
        client(url, "personalize").list_dataset_groups()["datasetGroups"])


def _cli(binary: str, *args: str, env: dict) -> dict:
    result = subprocess.run([binary, *args, "--output", "json"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "{}")


def test_awslocal_and_the_aws_cli(localstack_with_personalize, tmp_path):
    url, _ = localstack_with_personalize
    bin_dir = Path(sys.executable).parent
    aws, awslocal = bin_dir / "aws", bin_dir / "awslocal"
    if not aws.exists() or not awslocal.exists():
        pytest.fail("awscli / awscli-local are missing from .venv (requirements-dev.txt)")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "LOCALSTACK_HOST": url.split("//", 1)[1], "DISABLE_DEPRECATION_NOTICE": "1",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    created = _cli(str(awslocal), "personalize", "create-dataset-group", "--name", "cli-group",
                   env=env)
    assert created["datasetGroupArn"].endswith(":dataset-group/cli-group")
    listed = _cli(str(aws), "--endpoint-url", url, "personalize", "list-dataset-groups",
                  env=env)
    assert created["datasetGroupArn"] in [g["datasetGroupArn"] for g in listed["datasetGroups"]]
    recipes = _cli(str(awslocal), "personalize", "list-recipes", env=env)
    assert any(r["name"] == "aws-user-personalization" for r in recipes["recipes"])
    missing = subprocess.run(
        [str(aws), "--endpoint-url", url, "personalize-runtime", "get-recommendations",
         "--campaign-arn", "arn:aws:personalize:us-east-1:000000000000:campaign/none",
         "--user-id", "1"], capture_output=True, text=True, env=env, timeout=120)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_automatic_updates_run_on_a_localstack_eventbridge_rule(localstack_with_personalize):
    url, data = localstack_with_personalize
    events = client(url, "events")
    deadline = time.time() + 120
    while not events.list_rules(NamePrefix="personalize-automatic-updates")["Rules"]:
        assert time.time() < deadline, "the sidecar did not install its rules"
        time.sleep(0.2)
    rules = {r["Name"]: r for r in events.list_rules(
        NamePrefix="personalize-automatic-updates")["Rules"]}
    assert rules["personalize-automatic-updates"]["ScheduleExpression"] == "rate(2 hours)"
    for rule in rules:
        [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["Arn"].endswith(":api-destination/personalize-automatic-updates/" +
                                      target["Arn"].rsplit("/", 1)[1])
    # the route the API destination calls refuses anyone without the connection's token
    forbidden = urllib.request.Request(url + "/_personalize/automatic-updates", data=b"",
                                       method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forbidden, timeout=30)
    assert refused.value.code == 403
    # a round on demand: an event on the default bus -> rule -> API destination -> sidecar
    log = data / "localstack.log"
    before = log.read_text().count("Personalize automatic updates via EventBridge")
    events.put_events(Entries=[{"Source": "personalize.automatic-updates",
                                "DetailType": "run", "Detail": "{}"}])
    deadline = time.time() + 120
    while log.read_text().count("Personalize automatic updates via EventBridge") == before:
        assert time.time() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    line = log.read_text().rsplit("Personalize automatic updates via EventBridge: ", 1)[1]
    assert json.loads(line.splitlines()[0]) == {"updated": []}
