"""GetRecommendations latency of the current code against an older revision, interleaved.

    .venv/bin/python bench/serving_ab.py --baseline REV --data-dir DIR [--size 1000000]
                                         [--requests 1000] [--warmup-seconds 20]

On a shared VM the speed of the machine drifts by tens of percent within an hour, so two
runs of bench/serving_latency.py minutes apart do not compare two revisions. Here both
endpoints serve the same deployment (DIR, built by serving_setup for --size items if it is
not there yet) at the same time, and every measured request is sent to both, in a random
order, with the same body: whatever the machine does, it does to both. Without and with
the genre filter, as serving_latency.py. Each endpoint holds its own copy of the model in
memory (two 1M-item servers: ~4 GB).
Results: bench/results/serving_ab.json (or --name)
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from serving_latency import FAST_MS, request_body
from serving_setup import (Checkout, CpuSteal, SignedClient, deployment, percentiles,
                           print_table, save, start_endpoint)


def interleaved(urls: dict[str, str], deployed: dict, with_filter: bool, count: int,
                warmup_s: float) -> dict:
    clients = {name: SignedClient(url, "personalize") for name, url in urls.items()}
    rng, order = random.Random(7), random.Random(11)
    # warm-up: both endpoints until the time is up and both answer fast (the retrieval
    # index is built in the background after the model loads)
    warm_until = time.perf_counter() + warmup_s
    give_up = warm_until + 600
    recent = {name: [] for name in clients}
    while time.perf_counter() < give_up and (time.perf_counter() < warm_until or any(
            not r or sorted(r)[len(r) // 2] > FAST_MS for r in recent.values())):
        body = request_body(deployed, rng, with_filter)
        for name, client in clients.items():
            started = time.perf_counter()
            client.post("/recommendations", body)
            recent[name] = (recent[name] + [(time.perf_counter() - started) * 1000])[-20:]
    samples = {name: [] for name in clients}
    with CpuSteal() as steal:
        for _ in range(count):
            body = request_body(deployed, rng, with_filter)
            names = list(clients)
            order.shuffle(names)
            for name in names:
                started = time.perf_counter()
                status, reply = clients[name].post("/recommendations", body)
                samples[name].append((time.perf_counter() - started) * 1000)
                assert status == 200 and len(reply["itemList"]) == 25, reply
    return {name: {**percentiles(s), "cpu_steal_percent": steal.percent}
            for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", required=True, metavar="REV")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup-seconds", type=float, default=20.0)
    parser.add_argument("--name", default="serving_ab")
    args = parser.parse_args()
    current = start_endpoint(args.data_dir)
    try:
        deployed = deployment(current, args.size, args.data_dir)
        with Checkout(args.baseline) as tree:
            baseline = start_endpoint(args.data_dir, root=tree)
            try:
                urls = {f"baseline {args.baseline}": baseline.url, "current": current.url}
                results = {flt: interleaved(urls, deployed, flt, args.requests,
                                            args.warmup_seconds) for flt in (False, True)}
            finally:
                baseline.stop()
    finally:
        current.stop()
    rows = []
    for flt, by_code in results.items():
        for code, stats in by_code.items():
            rows.append([code, "yes" if flt else "no", stats["p50_ms"], stats["p90_ms"],
                         stats["p99_ms"], stats["mean_ms"], stats["cpu_steal_percent"]])
    print_table(["code", "filter", "p50 ms", "p90 ms", "p99 ms", "mean ms", "steal %"], rows)
    for flt, by_code in results.items():
        base, now = by_code[f"baseline {args.baseline}"], by_code["current"]
        print(f"filter={flt}: current / baseline p50 x{now['p50_ms'] / base['p50_ms']:.2f}, "
              f"p99 x{now['p99_ms'] / base['p99_ms']:.2f}")
    print(f"\nsaved {save(args.name, {'size': args.size, 'requests': args.requests, 'baseline': args.baseline, 'results': {str(k): v for k, v in results.items()}})}")


if __name__ == "__main__":
    main()
