"""Real external services for tests: LocalStack (host mode) and moto's standalone server.

Registered from tests/conftest.py (`pytest_plugins`). Each starts once per session.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60, accept_errors: bool = True) -> None:
    """Poll until the URL answers at all (an HTTP error is an answer)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            if accept_errors:
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Service:
    endpoint_url: str
    pid: int


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/moto-api/")
    yield Service(url, process.pid)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def localstack(tmp_path_factory):
    if not (ROOT / ".localstack-venv" / "bin" / "python").exists():
        if os.environ.get("LOCALSTACK_OPTIONAL") == "1":
            pytest.skip("LocalStack is not installed (make localstack)")
        pytest.fail("LocalStack is not installed: run `make localstack` (CI does)")
    port = free_port()
    data = tmp_path_factory.mktemp("localstack")
    started = subprocess.run(
        ["bash", str(ROOT / "infra/localstack/start.sh"), str(port), str(data)],
        capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        pytest.fail(f"LocalStack did not start: {started.stderr[-2000:]}")
    pid = int(started.stdout.strip().splitlines()[-1])
    yield Service(f"http://127.0.0.1:{port}", pid)
    subprocess.run(["bash", str(ROOT / "infra/localstack/stop.sh"), str(pid)], timeout=60)
