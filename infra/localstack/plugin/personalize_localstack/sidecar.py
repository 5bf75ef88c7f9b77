"""Our endpoint as LocalStack's sidecar, and the forwarding of each request to it.

Why a sidecar and not our gateway in LocalStack's interpreter: LocalStack runs on Python
3.13 with its own pinned botocore, our endpoint on the project's Python 3.11 with torch
2.13 (whose wheel here is cp311) and moto; one interpreter cannot hold both sets of pins.
The sidecar costs one local HTTP hop per request (bench numbers in README, "Inside
LocalStack").

- Started when LocalStack starts the first of the three Personalize services (lazily, on
  the first request, or at start-up with EAGER_SERVICE_LOADING), stopped when it stops
  them at shutdown; one process serves all three.
- Its S3 is LocalStack's own (PERSONALIZE_S3_ENDPOINT_URL = this LocalStack), so imports
  read LocalStack's buckets with no setting.
- Its state lives under LocalStack's data folder (PERSONALIZE_DATA_DIR overrides).
- Its automatic updates run on a LocalStack EventBridge rule (schedule.py).
- Account and region come from LocalStack's request context: each request is re-signed
  for the sidecar with the context's account id as access key id (the endpoint runs
  without keys, where a 12-digit key id names its account, as in LocalStack) and the
  context's region.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOG = logging.getLogger(__name__)


def repository() -> Path:
    """The checkout this package was installed from (pip records it in direct_url.json,
    PEP 610): its .venv runs the endpoint. PERSONALIZE_ROOT overrides."""
    configured = os.environ.get("PERSONALIZE_ROOT")
    if configured:
        return Path(configured)
    from importlib.metadata import distribution
    from urllib.parse import unquote, urlsplit
    url = json.loads(distribution("personalize-localstack").read_text("direct_url.json"))["url"]
    return Path(unquote(urlsplit(url).path)).parents[2]   # <root>/infra/localstack/plugin


START_TIMEOUT = float(os.environ.get("PERSONALIZE_SIDECAR_START_TIMEOUT", "180"))
# Request headers that describe the hop, not the call: recomputed for the sidecar.
HOP_HEADERS = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
               "host", "content-length", "connection", "transfer-encoding"}
SIGNING_NAME = "personalize"   # all three services sign as personalize


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _localstack_url() -> str:
    from localstack import config
    return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}"


def _data_dir() -> Path:
    configured = os.environ.get("PERSONALIZE_DATA_DIR")
    if configured:
        return Path(configured)
    from localstack import config
    return Path(config.dirs.data or config.dirs.tmp) / "personalize"


class Sidecar:
    """One endpoint process, shared by the three services (counted users)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self.pool = urllib3.PoolManager(maxsize=16, retries=False)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def acquire(self) -> None:
        with self._lock:
            if not self.alive:
                self._start()
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users == 0:
                self.stop()

    def _start(self) -> None:
        root = repository()
        python = os.environ.get("PERSONALIZE_PYTHON") or str(root / ".venv" / "bin" / "python")
        port = int(os.environ.get("PERSONALIZE_SIDECAR_PORT") or _free_port())
        data_dir = _data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "VIRTUAL_ENV", "LOCALSTACK_"))}
        # the EventBridge rule (schedule.py) runs the automatic updates, not a timer
        env.update(PERSONALIZE_S3_ENDPOINT_URL=_localstack_url(),
                   PERSONALIZE_DATA_DIR=str(data_dir),
                   PERSONALIZE_AUTO_UPDATE_SECONDS=str(10 * 365 * 86400))
        env.pop("PERSONALIZE_ACCESS_KEYS", None)   # LocalStack decides who calls
        log_path = data_dir / "sidecar.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [python, "-m", "chalicelib.server", "--host", "127.0.0.1", "--port", str(port),
                 "--data-dir", str(data_dir), "--s3-endpoint-url", _localstack_url()],
                cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"the Personalize endpoint did not start: {tail}")
            time.sleep(0.1)
        LOG.info("Personalize endpoint (pid %s) on %s, data in %s; console: %s/console",
                 self.process.pid, self.url, data_dir, self.url)
        from personalize_localstack import schedule
        schedule.install_in_background()

    def _answers(self) -> bool:
        try:
            self.pool.request("GET", self.url + "/", timeout=2.0)
            return True
        except urllib3.exceptions.HTTPError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        LOG.info("Personalize endpoint (pid %s) stopped", process.pid)

    def _signed(self, method: str, path: str, headers: dict, body: bytes, account: str,
                region: str) -> dict:
        request = AWSRequest(method, self.url + path, headers=headers, data=body)
        SigV4Auth(Credentials(account, "localstack"), SIGNING_NAME, region).add_auth(request)
        return dict(request.headers.items())

    def admin_post(self, path: str):
        """A call of the endpoint's own (not AWS's) routes, as LocalStack's default account."""
        from localstack.constants import AWS_REGION_US_EAST_1, DEFAULT_AWS_ACCOUNT_ID
        headers = self._signed("POST", path, {}, b"", DEFAULT_AWS_ACCOUNT_ID,
                               AWS_REGION_US_EAST_1)
        return self.pool.request("POST", self.url + path, body=b"", headers=headers,
                                 timeout=600.0, redirect=False)

    def forward(self, context):
        """The request as LocalStack received it, re-signed for the context's account
        and region, to the sidecar; its HTTP response as is."""
        from localstack.http import Response
        incoming = context.request
        path = incoming.full_path if incoming.query_string else incoming.path
        headers = {k: v for k, v in incoming.headers.items() if k.lower() not in HOP_HEADERS}
        body = incoming.get_data()
        signed = self._signed(incoming.method, path, headers, body, context.account_id,
                              context.region)
        answer = self.pool.request(incoming.method, self.url + path, body=body,
                                   headers=signed, timeout=300.0, redirect=False)
        drop = {"content-length", "connection", "transfer-encoding", "server", "date"}
        return Response(answer.data, status=answer.status,
                        headers=[(k, v) for k, v in answer.headers.items()
                                 if k.lower() not in drop])


SIDECAR = Sidecar()
atexit.register(SIDECAR.stop)
