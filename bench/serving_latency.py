"""GetRecommendations latency over HTTP against the real embedded server.

    .venv/bin/python bench/serving_latency.py [--sizes 10000 100000 1000000] [--requests 500]

For each catalogue size: deploy a campaign (see serving_setup), then send signed requests
one at a time (p50/p99 latency, sequential requests/s) and from several client threads at
once (requests/s), without and with a filter (EXCLUDE ItemID WHERE Items.GENRE IN ($GENRES)
with a different genre pair per request). The first request of each kind (model load,
catalogue build) is reported separately as cold start; then --warmup-seconds of requests
(the retrieval index of a large catalogue is built in the background meanwhile; warm-up
goes on until requests are fast) before the measured ones. After each size: the server's
resident memory (anonymous and file-backed, per item). With --recall-users, for catalogues
on the retrieval path, after the server has stopped: the index build time and recall@25 of
the retrieval path against exact scoring of every item, in this process, on the same model.
--data-dir keeps the deployments for the next run.
Results: bench/results/serving_latency.json (or --name)
"""
from __future__ import annotations

import argparse
import random
import threading
import time
from pathlib import Path

from serving_setup import (GENRES, CpuSteal, SignedClient, deployment, percentiles,
                           print_table, save, start_endpoint)

FAST_MS = 50.0   # warm-up ends once the median of the last 20 requests is below this


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
    give_up = warm_until + 600
    recent: list[float] = []
    while time.perf_counter() < warm_until or (
            sorted(recent)[len(recent) // 2] > FAST_MS and time.perf_counter() < give_up):
        started = time.perf_counter()
        client.post("/recommendations", request_body(deployed, rng, with_filter))
        recent = (recent + [(time.perf_counter() - started) * 1000])[-20:]
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


def resident_memory(pid: int) -> dict[str, float]:
    """GB of the process's resident memory: anonymous (its own) and file-backed (mapped
    model files: shared between processes mapping the same file, and reclaimable)."""
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024 ** 2
    return {"rss_gb": fields["VmRSS"], "anon_gb": fields["RssAnon"],
            "file_gb": fields["RssFile"], "peak_gb": fields["VmHWM"]}


def recall_against_exact(deployed: dict, users: int, results: int = 25) -> dict:
    """Index build seconds, and recall@results of the retrieval path against exact scoring
    of every item for a sample of the deployment's users (their training histories, no
    exploration). Two counts: strict (the same items as the exact top list) and tie-aware
    (retrieved items whose exact score reaches the exact list's last score): cold items of
    one genre share one vector, so an exact list can end in ties among a million items, and
    which of them it names is arbitrary."""
    from pathlib import Path

    import numpy as np
    import torch

    from chalicelib.deployment import read_deployment

    deployment = read_deployment(Path(deployed["model_dir"]))
    model = deployment.model
    started = time.perf_counter()
    model.scorer.index()
    build_s = time.perf_counter() - started
    rng = random.Random(3)
    sample = rng.sample(sorted(deployment.histories), min(users, len(deployment.histories)))
    strict, tie_aware = [], []
    for user in sample:
        history = deployment.histories[user]
        found = [model.index[i] for i, _ in
                 model.recommend(user, history, results, exploration_weight=0.0, now=1.8e9)]
        rows, state = model._state(history, None, None)
        space = model.scorer._exact(state, model.popularity_prior(rows), rows, None, False,
                                    1.8e9, 30.0)
        exact = torch.where(space.candidates, space.exploit, torch.tensor(-1.0))
        top = torch.topk(exact, results)
        last = float(top.values[-1])
        strict.append(len(set(found) & set(top.indices.tolist())) / results)
        tie_aware.append(float((exact[found] >= last * (1 - 1e-5)).sum()) / results)
    return {"index_build_s": build_s, "recall_at_25": float(np.mean(strict)),
            "recall_at_25_tie_aware": float(np.mean(tie_aware)), "recall_users": len(strict),
            "index_leaves": model.scorer.index().num_leaves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup-seconds", type=float, default=20.0,
                        help="requests sent after the cold one before measuring")
    parser.add_argument("--recall-users", type=int, default=0,
                        help="users sampled for recall@25 against exact scoring (0: skip)")
    parser.add_argument("--name", default="serving_latency", help="results file name")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep deployments here and reuse them on the next run "
                             "(training the 1M-item model takes minutes)")
    args = parser.parse_args()
    endpoint = start_endpoint(args.data_dir)
    rows, results, memory, recalled = [], [], [], []
    try:
        for size in args.sizes:
            before = resident_memory(endpoint.process.pid)
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
            after = resident_memory(endpoint.process.pid)
            added = {k: after[k] - before[k] for k in ("rss_gb", "anon_gb", "file_gb")}
            memory.append({"items": size, "server": after, "added": added,
                           "bytes_per_item": {k: v * 1024 ** 3 / size
                                              for k, v in added.items()}})
            print(f"  server memory: {after}; this size added {added}", flush=True)
            if args.recall_users and size >= 100_000:
                recalled.append(deployed)
    finally:
        endpoint.stop()
    recall = []
    for deployed in recalled:   # the server has stopped: its memory is free again
        recall.append({"items": deployed["n_items"],
                       **recall_against_exact(deployed, args.recall_users)})
        print(f"  recall: {recall[-1]}", flush=True)
    print()
    print_table(["items", "filter", "cold ms", "p50 ms", "p99 ms", "req/s (1 client)",
                 f"req/s ({args.threads} threads)", "CPU steal %"], rows)
    print()
    print_table(["items", "server RSS GB", "added GB", "anon GB", "file GB", "bytes/item"],
                [[m["items"], m["server"]["rss_gb"], m["added"]["rss_gb"],
                  m["added"]["anon_gb"], m["added"]["file_gb"],
                  round(m["bytes_per_item"]["rss_gb"])] for m in memory])
    if recall:
        print()
        print_table(["items", "index build s", "leaves", "recall@25 vs exact",
                     "tie-aware", "users"],
                    [[r["items"], r["index_build_s"], r["index_leaves"], r["recall_at_25"],
                      r["recall_at_25_tie_aware"], r["recall_users"]] for r in recall])
    print(f"\nsaved {save(args.name, {'requests': args.requests, 'results': results, 'memory': memory, 'recall': recall})}")


if __name__ == "__main__":
    main()
