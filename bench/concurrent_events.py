"""Several client processes sending PutEvents on loopback for a bounded time.

    .venv/bin/python bench/concurrent_events.py [--clients 4] [--seconds 10] [--batch 10]

Each client process sends signed PutEvents requests (`--batch` events each, distinct
eventIds) until the time is up and counts the events of requests answered 200. Afterwards
the stored events are read back from the store: stored == acknowledged proves none was lost
(and the eventIds prove none was stored twice). Results: bench/results/concurrent_events.json
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time

from serving_setup import INTERACTIONS_SCHEMA, SignedClient, print_table, save, start_endpoint, tracker
from tests.conftest import wait_for


def client(url: str, tracking_id: str, number: int, seconds: float, batch: int, queue) -> None:
    events = SignedClient(url, "personalize-events")
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
               "latencies": latencies})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    endpoint = start_endpoint()
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
        started = time.perf_counter()
        for process in processes:
            process.start()
        reports = [queue.get() for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
        from chalicelib.backend import build_backend
        from chalicelib.config import Settings
        backend = build_backend(Settings(data_dir=endpoint.data_dir))
        stored = backend.events.events(group)
    finally:
        endpoint.stop()
    import numpy as np
    acknowledged = sum(r["acknowledged"] for r in reports)
    latencies = np.concatenate([r["latencies"] for r in reports])
    unique_ids = len({row.get("EVENT_ID") for row in stored})
    result = {"clients": args.clients, "seconds": args.seconds, "batch": args.batch,
              "requests": sum(r["requests"] for r in reports),
              "errors": sum(r["errors"] for r in reports),
              "acknowledged_events": acknowledged, "stored_events": len(stored),
              "unique_event_ids": unique_ids, "events_per_s": acknowledged / elapsed,
              "requests_per_s": sum(r["requests"] for r in reports) / elapsed,
              "put_events_p50_ms": float(np.percentile(latencies, 50)),
              "put_events_p99_ms": float(np.percentile(latencies, 99)),
              "none_lost": acknowledged == len(stored) == unique_ids}
    print_table(["clients", "batch", "requests/s", "events/s", "p50 ms", "p99 ms",
                 "acknowledged", "stored", "none lost"],
                [[args.clients, args.batch, result["requests_per_s"], result["events_per_s"],
                  result["put_events_p50_ms"], result["put_events_p99_ms"], acknowledged,
                  len(stored), result["none_lost"]]])
    print(f"\nsaved {save('concurrent_events', result)}")


if __name__ == "__main__":
    main()
