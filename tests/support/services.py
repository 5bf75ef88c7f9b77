"""Real external services for tests: LocalStack (host mode) and moto's standalone server.

Registered from tests/conftest.py with ``pytest_plugins = ["tests.support.services"]``.
Each service starts once per session (LocalStack takes ~25 s) on a free port.

Also the building blocks other fixtures reuse:

- ``free_port()``: a TCP port on 127.0.0.1 nobody listens on right now.
- ``wait_http(url, timeout, process=None)``: poll until the URL answers (an HTTP error
  status is an answer); fails fast when ``process`` (a ManagedProcess or Popen) died.
- ``ManagedProcess``: a command in its own process with its log in a file; context
  manager; ``start()`` / ``stop()`` / ``kill9()`` / ``restart()`` / ``pid`` / ``log_tail()``.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_PYTHON = ROOT / ".localstack-venv" / "bin" / "python"
LOCALSTACK_SERVICES = "s3,events,scheduler,sts,iam"


def free_port() -> int:
    """A port on 127.0.0.1 that is free now (the OS picks it; reuse races are unlikely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dead(process) -> bool:
    if process is None:
        return False
    if isinstance(process, ManagedProcess):
        return not process.alive
    return process.poll() is not None


def wait_http(url: str, timeout: float = 60, accept_errors: bool = True,
              process=None, interval: float = 0.05) -> None:
    """Poll until ``url`` answers. With ``accept_errors`` any HTTP status counts as an
    answer (an AWS-style endpoint answers an unsigned GET with 403/404). Raises
    TimeoutError on time-out, RuntimeError as soon as ``process`` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if _dead(process):
            raise RuntimeError(f"process exited while waiting for {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            if accept_errors:
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(interval)


class ManagedProcess:
    """A command run as a child process, its stdout+stderr appended to ``log_path``.

    ``ready`` is either a URL (polled with wait_http) or a callable returning True when
    the process is ready; ``start()`` returns once it is, or raises with the log's tail.
    Stopping sends SIGTERM, then SIGKILL after ``stop_timeout`` s. The child gets its own
    session so that Ctrl-C in the test terminal does not hit it before cleanup does.
    """

    def __init__(self, argv: Sequence[str], log_path: str | os.PathLike, *,
                 env: Mapping[str, str] | None = None, inherit_env: bool = True,
                 cwd: str | os.PathLike = ROOT, ready: str | Callable[[], bool] | None = None,
                 ready_timeout: float = 60, stop_timeout: float = 20):
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = {**(os.environ if inherit_env else {}), **(env or {})}
        self.cwd = str(cwd)
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self.starts = 0

    # -- state ---------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> "ManagedProcess":
        if self.alive:
            raise RuntimeError(f"already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start #{self.starts + 1}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        timeout = self.ready_timeout if timeout is None else timeout
        what = " ".join(self.argv[:4])
        try:
            if isinstance(self.ready, str):
                wait_http(self.ready, timeout, process=self)
            elif callable(self.ready):
                deadline = time.monotonic() + timeout
                while not self.ready():
                    if not self.alive:
                        raise RuntimeError("process exited")
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"not ready within {timeout} s")
                    time.sleep(0.1)
            elif not self.alive:
                raise RuntimeError("process exited")
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{what}: {error} (exit code {self.returncode}); "
                               f"log {self.log_path}:\n{self.log_tail()}") from None

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, wait, then SIGKILL. Returns the exit code (None if never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def kill9(self) -> int | None:
        """SIGKILL now (a crash: no cleanup in the child) and reap it."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        return self.process.returncode

    def restart(self, kill: bool = False) -> "ManagedProcess":
        """Stop (or with ``kill``, SIGKILL) and start the same command again."""
        self.kill9() if kill else self.stop()
        return self.start()

    def __enter__(self) -> "ManagedProcess":
        return self if self.alive else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ManagedProcess(pid={self.pid}, alive={self.alive}, argv={self.argv[:3]!r})"


def stop_training_tasks(data_dir: Path) -> list[int]:
    """SIGKILL the training tasks of one data folder. Tasks outlive their server by design
    (a restarted server adopts them), so a test that ends before its training does must
    not leave them burning the cores. Returns their pids."""
    wanted = f"PERSONALIZE_DATA_DIR={data_dir}".encode()
    stopped = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes()
            environment = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"chalicelib.training.task" in command and wanted in environment:
            try:
                os.kill(int(proc.name), signal.SIGKILL)
                stopped.append(int(proc.name))
            except OSError:
                pass
    return stopped


@dataclass
class Service:
    """What a service fixture yields: ``endpoint_url``; ``pid`` and ``process``
    (the ManagedProcess) for tests that need them; ``port``."""
    endpoint_url: str
    pid: int | None
    port: int
    process: ManagedProcess | None = None


def moto_server_bin() -> Path:
    """moto_server next to the running interpreter (.venv/bin when run via make test)."""
    candidate = Path(sys.executable).with_name("moto_server")
    return candidate if candidate.exists() else ROOT / ".venv" / "bin" / "moto_server"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """moto's standalone server (all moto services on one port), shared by the session:
    tests must use unique resource names."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        [moto_server_bin(), "-H", "127.0.0.1", "-p", str(port)],
        tmp_path_factory.mktemp("moto") / "moto.log",
        env={"AWS_DEFAULT_REGION": "us-east-1"}, ready=url + "/moto-api/", ready_timeout=60)
    with process:
        yield Service(url, process.pid, port, process)


def localstack_health(url: str) -> dict:
    with urllib.request.urlopen(url + "/_localstack/health", timeout=2) as response:
        return json.load(response)


def localstack_process(port: int, data_dir: Path, services: str = LOCALSTACK_SERVICES,
                       extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
    """LocalStack's Python runtime in host mode (no Docker), all its state under data_dir."""
    url = f"http://127.0.0.1:{port}"

    def s3_ready() -> bool:
        try:
            return localstack_health(url).get("services", {}).get("s3") in ("available",
                                                                             "running")
        except (OSError, ValueError):
            return False

    env = {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": services,
        "LOCALSTACK_VOLUME_DIR": str(data_dir / "volume"),
        "FILESYSTEM_ROOT": str(data_dir / "fs"),
        "DNS_ADDRESS": "0",          # no DNS server on :53 (sessions may run side by side)
        "DISABLE_EVENTS": "1",       # no analytics calls (no internet here)
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "PERSISTENCE": "0",
    }
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith(("AWS_ENDPOINT_URL", "LOCALSTACK_"))}, **env,
           **(extra_env or {})}
    return ManagedProcess([LOCALSTACK_PYTHON, "-m", "localstack.runtime.main"],
                          data_dir / "localstack.log", env=env, inherit_env=False,
                          ready=s3_ready, ready_timeout=240, stop_timeout=30)


@pytest.fixture(scope="session")
def localstack(tmp_path_factory):
    """A real LocalStack (S3, EventBridge, Scheduler, STS, IAM) from .localstack-venv.
    Missing install: skipped with LOCALSTACK_OPTIONAL=1, otherwise an error (CI has it).
    With TEST_LOCALSTACK_URL set (e.g. http://localhost:4566, a LocalStack already running
    in Docker), that one is used instead and nothing is started (``pid`` is None)."""
    external = os.environ.get("TEST_LOCALSTACK_URL")
    if external:
        external = external.rstrip("/")
        try:
            localstack_health(external)
        except (OSError, ValueError) as error:
            pytest.fail(f"TEST_LOCALSTACK_URL={external} does not answer: {error}",
                        pytrace=False)
        yield Service(external, None, urllib.parse.urlsplit(external).port or 4566, None)
        return
    if not LOCALSTACK_PYTHON.exists():
        message = ("LocalStack is not installed in .localstack-venv: run `make localstack` "
                   "(or set LOCALSTACK_OPTIONAL=1 to skip these tests)")
        if os.environ.get("LOCALSTACK_OPTIONAL") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    port = free_port()
    process = localstack_process(port, tmp_path_factory.mktemp("localstack"))
    try:
        process.start()
    except RuntimeError as error:
        pytest.fail(f"LocalStack did not start: {error}", pytrace=False)
    try:
        yield Service(f"http://127.0.0.1:{port}", process.pid, port, process)
    finally:
        process.stop()
