"""PutEvents -> the next GetRecommendations for that user reflects it, end to end.

    .venv/bin/python bench/events_to_recommendation.py [--items 10000] [--rounds 100]
        [--data-dir DIR]   (reuses serving_latency.py's deployments in DIR)

Each round: ask for a user's recommendations, send a PutEvents for the top item (the model
never re-offers an item in the user's history), then ask again and check that the item is
gone. Measured: PutEvents latency, the following GetRecommendations latency, and their sum
(event sent -> changed recommendations received). Results: bench/results/events_to_recommendation.json
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from serving_setup import (CpuSteal, SignedClient, deployment, percentiles, print_table, save,
                           start_endpoint, tracker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--warmup-seconds", type=float, default=20.0,
                        help="GetRecommendations sent before measuring (a large catalogue's "
                             "retrieval index is built in the background after the model "
                             "loads; until then requests are scored exactly)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the deployment here and reuse it on the next run")
    args = parser.parse_args()
    endpoint = start_endpoint(args.data_dir)
    try:
        deployed = deployment(endpoint, args.items, args.data_dir)
        tracking_id = tracker(endpoint, deployed["group"], f"e2e-{time.time_ns()}")
        runtime = SignedClient(endpoint.url, "personalize")   # botocore signs runtime and events as "personalize"
        events = SignedClient(endpoint.url, "personalize")
        rng = random.Random(3)
        warm_until = time.perf_counter() + args.warmup_seconds
        while time.perf_counter() < warm_until:
            runtime.post("/recommendations", {"campaignArn": deployed["campaign"],
                                              "userId": rng.choice(deployed["users"])})
        put_ms, get_ms, total_ms, reflected = [], [], [], 0
        with CpuSteal() as steal:
            for round_ in range(args.rounds):
                user = rng.choice(deployed["users"])
                body = {"campaignArn": deployed["campaign"], "userId": user, "numResults": 25}
                status, before = runtime.post("/recommendations", body)
                assert status == 200, before
                top = before["itemList"][0]["itemId"]
                started = time.perf_counter()
                status, reply = events.post("/events", {
                    "trackingId": tracking_id, "userId": user, "sessionId": f"s{round_}",
                    "eventList": [{"eventType": "click", "itemId": top, "sentAt": time.time()}]})
                sent = time.perf_counter()
                assert status == 200, reply
                status, after = runtime.post("/recommendations", body)
                done = time.perf_counter()
                assert status == 200, after
                reflected += top not in [i["itemId"] for i in after["itemList"]]
                put_ms.append((sent - started) * 1000)
                get_ms.append((done - sent) * 1000)
                total_ms.append((done - started) * 1000)
    finally:
        endpoint.stop()
    rows = [[name, s["p50_ms"], s["p99_ms"], s["mean_ms"]] for name, s in (
        ("PutEvents", percentiles(put_ms)), ("next GetRecommendations", percentiles(get_ms)),
        ("event -> changed recommendations", percentiles(total_ms)))]
    print_table(["step", "p50 ms", "p99 ms", "mean ms"], rows)
    print(f"\nreflected in the next response: {reflected}/{args.rounds}; CPU steal "
          f"{steal.percent if steal.percent is None else round(steal.percent, 1)}%")
    print(f"saved {save('events_to_recommendation', {'items': args.items, 'rounds': args.rounds, 'reflected': reflected, 'put_events': percentiles(put_ms), 'next_recommendations': percentiles(get_ms), 'end_to_end': percentiles(total_ms), 'cpu_steal_percent': steal.percent})}")


if __name__ == "__main__":
    main()
