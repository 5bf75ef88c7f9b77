"""What Personalize inside LocalStack costs per request: the same GetRecommendations sent
to our sidecar directly and through LocalStack's port (routing, parsing, re-signing,
one local HTTP hop), beside LocalStack's own S3 ListBuckets as the cost of LocalStack's
handler chain for a service it implements itself.

    .venv/bin/python bench/localstack_overhead.py [--items 10000] [--requests 500]

Starts a real LocalStack (host mode, .localstack-venv with the plugin: `make localstack`)
with EAGER_SERVICE_LOADING, deploys a campaign into its sidecar (bench/serving_setup.py),
then alternates the clients request by request so that load from other work on the
machine falls on both alike. Prints a table and saves bench/results/localstack_overhead.json.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving_setup import (CpuSteal, SignedClient, deploy, percentiles,  # noqa: E402
                                 print_table, save)
from tests.conftest import Endpoint  # noqa: E402
from tests.support.services import free_port, localstack_process  # noqa: E402

SERVICES = "s3,sts,personalize,personalize-runtime,personalize-events"


def sidecar_port(log: Path, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if "Ready on http://127.0.0.1:" in text:
            return int(text.rsplit("Ready on http://127.0.0.1:", 1)[1].split()[0])
        time.sleep(0.2)
    raise TimeoutError(f"no sidecar in {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="localstack-overhead-"))
    port = free_port()
    process = localstack_process(port, data, SERVICES, {
        "PERSONALIZE_DATA_DIR": str(data / "personalize"), "EAGER_SERVICE_LOADING": "1",
        "PERSONALIZE_SETTLE_SECONDS": "0.01", "PERSONALIZE_ROOT": str(ROOT)})
    process.start()
    try:
        sidecar = Endpoint(data / "personalize")
        sidecar.port = sidecar_port(data / "personalize" / "sidecar.log")
        sidecar.url = f"http://127.0.0.1:{sidecar.port}"
        deployed = deploy(sidecar, args.items)
        localstack = f"http://127.0.0.1:{port}"
        body = {"campaignArn": deployed["campaign"], "numResults": 25}
        clients = {"sidecar directly": SignedClient(sidecar.url, "personalize"),
                   "through LocalStack": SignedClient(localstack, "personalize")}
        s3 = SignedClient(localstack, "s3")
        samples = {name: [] for name in [*clients, "LocalStack S3 ListBuckets"]}
        users = deployed["users"]

        def s3_list():
            s3.connection.request("GET", "/", headers=_signed_get(s3, localstack + "/"))
            response = s3.connection.getresponse()
            response.read()
            return response.status

        for k in range(20):   # warm-up: models loaded, connections open
            for client in clients.values():
                client.post("/recommendations", {**body, "userId": users[k % len(users)]})
            s3_list()
        with CpuSteal() as steal:
            for k in range(args.requests):
                user = users[k % len(users)]
                for name, client in clients.items():
                    started = time.perf_counter()
                    status, _ = client.post("/recommendations", {**body, "userId": user})
                    samples[name].append((time.perf_counter() - started) * 1000)
                    assert status == 200, status
                started = time.perf_counter()
                assert s3_list() == 200
                samples["LocalStack S3 ListBuckets"].append((time.perf_counter() - started)
                                                             * 1000)
        stats = {name: percentiles(values) for name, values in samples.items()}
        direct = stats["sidecar directly"]["p50_ms"]
        rows = [[name, s["p50_ms"], s["p99_ms"], s["p50_ms"] - direct]
                for name, s in stats.items()]
        load = os.getloadavg()[0]
        print(f"GetRecommendations, {args.items} items, {args.requests} requests each "
              f"(CPU steal {steal.percent or 0:.1f}%, load average {load:.1f})")
        print_table(["path", "p50 ms", "p99 ms", "p50 - direct ms"], rows)
        save("localstack_overhead", {"items": args.items, "requests": args.requests,
                                     "cpu_steal_percent": steal.percent,
                                     "load_average": load, "stats": stats})
    finally:
        process.stop()


def _signed_get(client: SignedClient, url: str) -> dict:
    from botocore.awsrequest import AWSRequest
    request = AWSRequest("GET", url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    client.signer.add_auth(request)
    return dict(request.headers)


if __name__ == "__main__":
    main()
