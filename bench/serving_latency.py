"""GetRecommendations latency over HTTP against the real embedded server.

    .venv/bin/python bench/serving_latency.py [--sizes 10000 100000 1000000] [--requests 500]

For each catalogue size: deploy a campaign (see serving_setup), then send signed requests
one at a time (p50/p99 latency, sequential requests/s) and from several client threads at
once (requests/s), without and with a filter (EXCLUDE ItemID WHERE Items.GENRE IN ($GENRES)
with a different genre pair per request). The first request of each kind (model load,
catalogue build) is reported separately as cold start; then --warmup-seconds of requests
(the retrieval index of a large catalogue is built in the background meanwhile) before the
measured ones. --data-dir keeps the deployments for the next run.
Results: bench/results/serving_latency.json
"""
from __future__ import annotations

import argparse
import random
import threading
import time
from pathlib import Path

from serving_setup import (GENRES, CpuSteal, SignedClient, deployment, percentiles,
                           print_table, save, start_endpoint)


def request_body(deployed: dict, rng: random.Random, with_filter: bool) -> dict:
    body = {"campaignArn": deployed["campaign"], "userId": rng.choice(deployed["users"]),
            "numResults": 25}
    if with_filter:
        pair = rng.sample(GENRES, 2)
        body.update(filterArn=deployed["filter"],
                    filterValues={"GENRES": ",".join(f'"{g}"' for g in pair)})
    return body


def sequential(url: str, deployed: dict, with_filter: bool, count: int,
               warmup_s: float) -> dict:
    client = SignedClient(url, "personalize")   # personalize-runtime signs as personalize
    rng = random.Random(7)
    started = time.perf_counter()
    status, reply = client.post("/recommendations", request_body(deployed, rng, with_filter))
    cold_ms = (time.perf_counter() - started) * 1000
    assert status == 200 and len(reply["itemList"]) == 25, reply
    # the retrieval index of a large catalogue is built in the background after the model
    # loads (requests meanwhile are scored exactly): steady state is measured after it
    warm_until = time.perf_counter() + warmup_s
    while time.perf_counter() < warm_until:
        client.post("/recommendations", request_body(deployed, rng, with_filter))
    samples = []
    begin = time.perf_counter()
    with CpuSteal() as steal:
        for _ in range(count):
            body = request_body(deployed, rng, with_filter)
            started = time.perf_counter()
            status, reply = client.post("/recommendations", body)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200 and reply["recommendationId"], reply
    elapsed = time.perf_counter() - begin
    return {"cold_ms": cold_ms, **percentiles(samples), "sequential_rps": count / elapsed,
            "cpu_steal_percent": steal.percent}


def concurrent(url: str, deployed: dict, with_filter: bool, threads: int,
               seconds: float) -> float:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(n: int):
        client = SignedClient(url, "personalize")   # personalize-runtime signs as personalize
        rng = random.Random(n)
        while time.perf_counter() < stop:
            status, _ = client.post("/recommendations", request_body(deployed, rng, with_filter))
            assert status == 200
            done[n] += 1
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup-seconds", type=float, default=20.0,
                        help="requests sent after the cold one before measuring")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep deployments here and reuse them on the next run "
                             "(training the 1M-item model takes minutes)")
    args = parser.parse_args()
    endpoint = start_endpoint(args.data_dir)
    rows, results = [], []
    try:
        for size in args.sizes:
            deployed = deployment(endpoint, size, args.data_dir)
            print(f"# {size} items: setup {deployed['setup_s']:.1f}s, train "
                  f"{deployed['train_s']:.1f}s, model items {deployed['model_items']}",
                  flush=True)
            for with_filter in (False, True):
                stats = sequential(endpoint.url, deployed, with_filter, args.requests,
                                   args.warmup_seconds)
                stats["concurrent_rps"] = concurrent(endpoint.url, deployed, with_filter,
                                                     args.threads, args.seconds)
                result = {"items": size, "model_items": deployed["model_items"],
                          "filter": with_filter, **stats}
                results.append(result)
                steal = stats["cpu_steal_percent"]
                rows.append([size, "yes" if with_filter else "no", stats["cold_ms"],
                             stats["p50_ms"], stats["p99_ms"], stats["sequential_rps"],
                             stats["concurrent_rps"], "-" if steal is None else f"{steal:.0f}"])
                print(f"  filter={with_filter}: p50 {stats['p50_ms']:.2f} ms, "
                      f"p99 {stats['p99_ms']:.2f} ms, CPU steal {rows[-1][-1]}%", flush=True)
    finally:
        endpoint.stop()
    print()
    print_table(["items", "filter", "cold ms", "p50 ms", "p99 ms", "req/s (1 client)",
                 f"req/s ({args.threads} threads)", "CPU steal %"], rows)
    print(f"\nsaved {save('serving_latency', {'requests': args.requests, 'results': results})}")


if __name__ == "__main__":
    main()
