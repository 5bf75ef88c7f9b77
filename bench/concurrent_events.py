"""Several client processes sending PutEvents on loopback for a bounded time.

    .venv/bin/python bench/concurrent_events.py [--clients 4] [--seconds 10] [--batch 10]
                                                [--baseline REV] [--store dynamodb]

Each client process sends signed PutEvents requests (`--batch` events each, distinct
eventIds) until the time is up and counts the events of requests answered 200. Afterwards
the stored events are read back from the store: stored == acknowledged proves none was lost
(and the eventIds prove none was stored twice). The server's CPU time per call is measured
too: on a shared machine it moves far less than wall-clock figures. With --baseline, an
older revision's endpoint runs the same load first, in the same run, from a temporary
worktree. With --store dynamodb the endpoint keeps its state in DynamoDB (moto's standalone
server, started here, a fresh table per run) instead of SQLite. Results:
bench/results/concurrent_events.json (concurrent_events_dynamodb.json)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import numpy as np
from serving_setup import (INTERACTIONS_SCHEMA, ROOT, Checkout, CpuSteal, SignedClient,
                           print_table, process_cpu_seconds, save, start_endpoint, tracker)

from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.storage.dynamodb import create_table
from tests.conftest import wait_for
from tests.support.services import ManagedProcess, free_port, moto_server_bin

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


def client(url: str, tracking_id: str, number: int, seconds: float, batch: int, queue) -> None:
    events = SignedClient(url, "personalize")   # botocore signs personalize-events as "personalize"
    acknowledged, errors, requests, latencies = 0, 0, 0, []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        base = f"c{number}-r{requests}"
        body = {"trackingId": tracking_id, "userId": f"user-{number}-{requests % 50}",
                "sessionId": f"session-{number}",
                "eventList": [{"eventType": "click", "itemId": f"item-{(requests + k) % 997}",
                               "eventId": f"{base}-e{k}", "sentAt": time.time()}
                              for k in range(batch)]}
        started = time.perf_counter()
        status, _ = events.post("/events", body)
        latencies.append((time.perf_counter() - started) * 1000)
        requests += 1
        if status == 200:
            acknowledged += batch
        else:
            errors += 1
    queue.put({"acknowledged": acknowledged, "errors": errors, "requests": requests,
               "latencies": latencies, "cpu_seconds": time.process_time()})


def dynamodb_store(moto_url: str) -> dict[str, str]:
    """A fresh table on moto's server, and the endpoint settings that use it."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=moto_url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    table = f"events-bench-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    return {**CREDENTIALS, "PERSONALIZE_STORE": "dynamodb",
            "PERSONALIZE_DYNAMODB_ENDPOINT_URL": moto_url, "PERSONALIZE_DYNAMODB_TABLE": table}


def run_load(root, args, store_env: dict | None = None, store_calls=None) -> dict:
    """The endpoint of the checkout at `root` under the client processes: throughput,
    latency, the server's CPU per call, and what the store kept. `store_calls()` counts
    the requests the store has answered so far (DynamoDB: moto's request log)."""
    endpoint = start_endpoint(root=root, env=store_env)
    try:
        personalize = endpoint.client("personalize")
        group = personalize.create_dataset_group(name="events-bench")["datasetGroupArn"]
        wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
                 ["datasetGroup", "status"])
        schema = personalize.create_schema(name="events-bench-interactions",
                                           schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
        dataset = personalize.create_dataset(name="events-bench-interactions",
                                             schemaArn=schema, datasetGroupArn=group,
                                             datasetType="Interactions")["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=dataset), ["dataset", "status"])
        tracking_id = tracker(endpoint, group, "events-bench-tracker")
        queue = multiprocessing.Queue()
        processes = [multiprocessing.Process(target=client, args=(
            endpoint.url, tracking_id, n, args.seconds, args.batch, queue))
            for n in range(args.clients)]
        cpu_before = process_cpu_seconds(endpoint.process.pid)
        calls_before = store_calls() if store_calls else 0
        with CpuSteal() as steal:
            started = time.perf_counter()
            for process in processes:
                process.start()
            reports = [queue.get() for _ in processes]
            for process in processes:
                process.join()
            elapsed = time.perf_counter() - started
        server_cpu = process_cpu_seconds(endpoint.process.pid) - cpu_before
        calls = store_calls() - calls_before if store_calls else None
        if store_env:
            os.environ.update(CREDENTIALS)
            backend = build_backend(Settings(
                data_dir=endpoint.data_dir, store="dynamodb",
                dynamodb_endpoint_url=store_env["PERSONALIZE_DYNAMODB_ENDPOINT_URL"],
                dynamodb_table=store_env["PERSONALIZE_DYNAMODB_TABLE"]))
        else:
            backend = build_backend(Settings(data_dir=endpoint.data_dir))
        stored = backend.events.events(group)
    finally:
        endpoint.stop()
    acknowledged = sum(r["acknowledged"] for r in reports)
    requests = sum(r["requests"] for r in reports)
    latencies = np.concatenate([r["latencies"] for r in reports])
    unique_ids = len({row.get("EVENT_ID") for row in stored})
    return {"requests": requests, "errors": sum(r["errors"] for r in reports),
            "acknowledged_events": acknowledged, "stored_events": len(stored),
            "unique_event_ids": unique_ids, "events_per_s": acknowledged / elapsed,
            "requests_per_s": requests / elapsed,
            "put_events_p50_ms": float(np.percentile(latencies, 50)),
            "put_events_p99_ms": float(np.percentile(latencies, 99)),
            "server_cpu_ms_per_call": 1000 * server_cpu / max(requests, 1),
            # the clients' own (botocore signing, JSON, http.client): on 2 cores what the
            # server does not use is what the clients can
            "client_cpu_ms_per_call": 1000 * sum(r["cpu_seconds"] for r in reports)
            / max(requests, 1),
            "store_calls_per_put_events": None if calls is None else calls / max(requests, 1),
            "cpu_steal_percent": steal.percent, "load_average_1m": os.getloadavg()[0],
            "none_lost": acknowledged == len(stored) == unique_ids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also run the endpoint of this git revision first, as the "
                             "baseline (e.g. 08ca25e, before group commit)")
    parser.add_argument("--store", choices=["sqlite", "dynamodb"], default="sqlite")
    args = parser.parse_args()
    runs = {}
    with contextlib.ExitStack() as stack:
        store_env = lambda: None   # noqa: E731  (SQLite: the endpoint's own data folder)
        store_calls = None
        if args.store == "dynamodb":
            port = free_port()
            log = Path(tempfile.mkdtemp(prefix="events-bench-moto-")) / "moto.log"
            stack.enter_context(ManagedProcess(
                [moto_server_bin(), "-H", "127.0.0.1", "-p", str(port)], log,
                env=CREDENTIALS, ready=f"http://127.0.0.1:{port}/moto-api/"))
            store_env = lambda: dynamodb_store(f"http://127.0.0.1:{port}")  # noqa: E731

            def store_calls():   # moto logs a line per request it answered
                return log.read_text(errors="replace").count('"POST / HTTP')
        if args.baseline:
            with Checkout(args.baseline) as tree:
                runs[f"baseline {args.baseline}"] = run_load(tree, args, store_env(),
                                                             store_calls)
        runs["current"] = run_load(ROOT, args, store_env(), store_calls)
    headers = ["code", "requests/s", "events/s", "p50 ms", "p99 ms", "server CPU ms/call",
               "clients CPU ms/call", "store calls/call", "steal %", "load", "acknowledged",
               "stored", "none lost"]
    print_table(headers, [[name, r["requests_per_s"], r["events_per_s"], r["put_events_p50_ms"],
                           r["put_events_p99_ms"], r["server_cpu_ms_per_call"],
                           r.get("client_cpu_ms_per_call", float("nan")),
                           r.get("store_calls_per_put_events") or "-",
                           r["cpu_steal_percent"], r["load_average_1m"],
                           r["acknowledged_events"], r["stored_events"], r["none_lost"]]
                          for name, r in runs.items()])
    if args.baseline:
        base, now = runs[f"baseline {args.baseline}"], runs["current"]
        print(f"\ncurrent / baseline: events/s x{now['events_per_s'] / base['events_per_s']:.2f}, "
              f"p99 x{now['put_events_p99_ms'] / base['put_events_p99_ms']:.2f}, "
              f"server CPU per call x{now['server_cpu_ms_per_call'] / base['server_cpu_ms_per_call']:.2f}")
    result = {"clients": args.clients, "seconds": args.seconds, "batch": args.batch,
              "store": args.store, "runs": runs, **runs["current"]}
    name = "concurrent_events" if args.store == "sqlite" else "concurrent_events_dynamodb"
    print(f"\nsaved {save(name, result)}")


if __name__ == "__main__":
    main()
