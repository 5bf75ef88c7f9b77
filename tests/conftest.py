"""Shared fixtures: the real endpoint as a process, and boto3 clients pointed at it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

pytest_plugins = ["tests.support.services"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Endpoint:
    """`python -m chalicelib.server` in its own process, with its own data folder."""

    def __init__(self, data_dir: Path, env: dict | None = None, root: Path = ROOT):
        self.data_dir = data_dir
        self.root = root  # the checkout it runs (benchmarks run an older one as a baseline)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PERSONALIZE_SETTLE_SECONDS": "0.05", **(env or {})}
        self.process = None

    def start(self) -> "Endpoint":
        log = open(self.data_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.server", "--port", str(self.port),
             "--data-dir", str(self.data_dir)], cwd=self.root, env=self.env,
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.data_dir / "server.log").read_text()[-3000:])
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
            except urllib.error.HTTPError:
                return self  # it answered (with an AWS error for an unsigned request)
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("endpoint did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=30)

    def client(self, service: str, **kwargs):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}), **kwargs)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    server = Endpoint(tmp_path_factory.mktemp("endpoint")).start()
    yield server
    server.stop()


def _client_fixture(name: str, service: str):
    """The session fixture `name`: a boto3 client for `service` on the shared endpoint."""
    @pytest.fixture(scope="session", name=name)
    def client(endpoint):
        return endpoint.client(service)
    return client


personalize = _client_fixture("personalize", "personalize")
runtime = _client_fixture("runtime", "personalize-runtime")
events = _client_fixture("events", "personalize-events")
s3 = _client_fixture("s3", "s3")


def wait_for(describe, status_path, done=("ACTIVE", "CREATE FAILED"), timeout=300):
    """Poll a Describe call until the status leaves the pending states."""
    deadline = time.time() + timeout
    while True:
        doc = describe()
        for key in status_path:
            doc = doc[key]
        if doc in done or time.time() > deadline:
            return doc
        time.sleep(0.05)
