"""Are GetSolutionMetrics honest? The same code, the same ML-100K data, three trainings.

    .venv/bin/python bench/metrics_honesty.py [--recipe aws-user-personalization]

- "version": what a solution version reports today (AWS's split: 10% of the users are test
  users; the model trains on the other 90%; each test user's oldest 90% is the input and
  the newest 10% is scored);
- "leaky": the same test cases scored by a model trained on every interaction, the test
  users' scored newest 10% included. It is the ceiling leakage would give: the version's
  figures must stay below it;
- "temporal": the split the task used before issue 20 (every user's newest 10% held out,
  every user's older events in training), scored on all users, for the before/after
  comparison on the same code.
Results: bench/results/metrics_honesty.json
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving_setup import print_table, save  # noqa: E402
from bench.training_time import movielens_rows  # noqa: E402
from chalicelib.models import get_recipe  # noqa: E402
from chalicelib.models.data import TrainingData  # noqa: E402
from chalicelib.training.evaluation import score, temporal_split, user_split  # noqa: E402

SHOWN = ("normalized_discounted_cumulative_gain_at_10", "precision_at_5", "mean_reciprocal_rank_at_25")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="aws-user-personalization")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    users, items, kinds, stamps = zip(*movielens_rows())
    data = TrainingData.from_interactions(np.array(users, dtype=object),
                                          np.array(items, dtype=object),
                                          np.array(stamps, dtype=np.float64),
                                          event_type=np.array(kinds, dtype=object))
    recipe = get_recipe(args.recipe)
    version = user_split(data, seed=args.seed)
    temporal = temporal_split(data, 0.1)
    runs = {"version": (version.train, version.cases),
            "leaky": (data, version.cases),
            "temporal": (temporal.train, temporal.cases)}
    results, rows = {}, []
    for name, (train, cases) in runs.items():
        started = time.perf_counter()
        model = recipe.train(train, {}, seed=args.seed, log=lambda line: None)
        metrics = score(model, recipe.recipe_type, cases, args.seed, max_users=len(cases))
        results[name] = {"metrics": metrics, "test_users": len(cases),
                         "training_events": len(train.interactions),
                         "seconds": round(time.perf_counter() - started, 1)}
        rows.append([name, len(cases), len(train.interactions)]
                    + [round(metrics.get(k, 0.0), 4) for k in SHOWN]
                    + [results[name]["seconds"]])
        print(f"{name}: {results[name]}", flush=True)
    print()
    print_table(["run", "test users", "training events", "NDCG@10", "precision@5", "MRR@25",
                 "seconds"], rows)
    print(f"\nsaved {save('metrics_honesty', {'recipe': args.recipe, 'runs': results})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
