"""solutionConfig.optimizationObjective: the mean attribute of the top 25 and NDCG@10 per
objectiveSensitivity, on ML-100K with a synthetic PRICE.

    OMP_NUM_THREADS=1 .venv/bin/python bench/objective_optimisation.py [--epochs 10]

ML-100K (5-core), temporal leave-one-out (bench/loo.py, the protocol of bench/quality.py).
PRICE per movie: log-normal (median 20, sigma 0.8), drawn independently of everything
else, so that a higher price in the lists can only come from the objective. One
aws-user-personalization model is trained with the recipe's own train(); each sensitivity
serves it with that objective (`with_objective`: the objective changes serving only, and
tests/training/test_context_and_objective.py checks that a model trained with the
objective serves the same). Per sensitivity: the mean PRICE of each user's top 25,
NDCG@10 and Recall@10 against the held-out event, and average_rewards_at_k as
GetSolutionMetrics reports it (chalicelib/models/objective.py). Target: the mean price
rises monotonically with the sensitivity and NDCG@10 at LOW stays within 10% of OFF.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PERSONALIZE_TEXT_ENCODER", "hashed")

from bench.datasets import load  # noqa: E402
from bench.loo import (arguments, leave_one_out, machine_load, metrics,  # noqa: E402
                       ranked_lists)
from bench.serving_setup import CpuSteal  # noqa: E402
from chalicelib.models.data import ID, NUMERICAL, Table  # noqa: E402
from chalicelib.models.objective import (SENSITIVITY_WEIGHTS, Objective,  # noqa: E402
                                           average_rewards_at_k)

RESULTS = ROOT / "bench" / "results"
LEVELS = ("OFF", "LOW", "MEDIUM", "HIGH")


def priced_movielens(seed: int):
    data = load("ml-100k")
    movies = sorted(set(data.interactions.columns["ITEM_ID"].astype(str)))
    rng = np.random.default_rng(seed)
    prices = np.round(np.exp(rng.normal(np.log(20.0), 0.8, len(movies))), 2)
    data.items = Table({"ITEM_ID": np.array(movies, dtype=object), "PRICE": prices},
                       {"ITEM_ID": ID, "PRICE": NUMERICAL})
    return data, dict(zip(movies, prices.tolist()))


def main(argv=None) -> int:
    args = arguments(__doc__, str(RESULTS / "objective_optimisation.json"), argv)
    from chalicelib.models import get_recipe
    data, prices = priced_movielens(args.seed)
    train, cases = leave_one_out(data, None, args.max_users, args.seed)
    print(f"ml-100k: {len(data.interactions)} interactions, {len(cases)} test users; "
          f"catalogue mean price {np.mean(list(prices.values())):.2f}", flush=True)
    started = time.perf_counter()
    with CpuSteal() as steal:
        trained = get_recipe("aws-user-personalization").train(
            train, {"epochs": str(args.epochs)}, seed=args.seed)
    train_seconds = time.perf_counter() - started
    print(f"trained in {train_seconds:.0f} s (CPU steal {steal.percent:.1f}%)", flush=True)
    rows = []
    for level in LEVELS:
        model = trained.with_objective(Objective("PRICE", level), data.items)
        with CpuSteal() as steal:
            ranked = ranked_lists(model, cases)
        quality = metrics(model, cases, ranked)
        rows.append({
            "sensitivity": level, "weight": SENSITIVITY_WEIGHTS[level],
            "mean_price_top_25": float(np.mean([np.mean([prices[i] for i in r])
                                                for r in ranked])),
            "ndcg_at_10": quality["ndcg_at_10"], "recall_at_10": quality["recall_at_10"],
            "coverage_at_10": quality["coverage_at_10"],
            "average_rewards_at_k": average_rewards_at_k(ranked, [[c.target] for c in cases],
                                                         prices),
            "cpu_steal_percent": steal.percent, **machine_load()})
        print(format_row(rows[-1]), flush=True)
    off = rows[0]
    for row in rows:
        row["ndcg_vs_off"] = row["ndcg_at_10"] / off["ndcg_at_10"] if off["ndcg_at_10"] else None
    prices_rise = all(a["mean_price_top_25"] < b["mean_price_top_25"]
                      for a, b in zip(rows, rows[1:]))
    low_ok = rows[1]["ndcg_vs_off"] is not None and rows[1]["ndcg_vs_off"] >= 0.9
    print()
    print(" | ".join(COLUMNS))
    for row in rows:
        print(format_row(row))
    print(f"mean price rises monotonically: {prices_rise}; NDCG@10 at LOW / OFF = "
          f"{rows[1]['ndcg_vs_off']:.3f} (target >= 0.9): {low_ok}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({
        "args": vars(args), "train_seconds": train_seconds, "rows": rows,
        "price_rises_monotonically": prices_rise, "low_within_10_percent": low_ok},
        indent=2))
    print(f"saved {args.output}")
    return 0 if prices_rise and low_ok else 1


COLUMNS = ("sensitivity", "weight", "mean_price_top_25", "ndcg_at_10", "recall_at_10",
           "average_rewards_at_k", "coverage_at_10")


def format_row(row: dict) -> str:
    return " | ".join(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c])
                      for c in COLUMNS)


if __name__ == "__main__":
    sys.exit(main())
