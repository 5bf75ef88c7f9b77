"""How much the candidate retrieval of large catalogues loses against exact scoring.

    .venv/bin/python bench/retrieval_recall.py [--dataset amazon-video-games] [--users 200]

Trains aws-user-personalization on a real dataset, then for a sample of users compares the
top 25 (explorationWeight 0, history excluded) of the retrieval path (what catalogues of
RETRIEVAL_FROM items and more use) with exact scoring of every item, at retrieval budgets of
1.6%, 3.2% and 6.4% of the catalogue. Serving uses RETRIEVAL_BUDGET items at any size: at a
million items that is 1.6%. Results: bench/results/retrieval_recall.json
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import datasets  # noqa: E402  (bench/datasets.py)
from serving_setup import print_table, save  # noqa: E402
from chalicelib.models.user_personalization import RECIPE, scoring  # noqa: E402


def top(model, user, history, retrieval: bool) -> list[str]:
    scoring.RETRIEVAL_FROM = 0 if retrieval else 10 ** 12
    return [item for item, _ in model.recommend(user, history, 25, exploration_weight=0.0,
                                                now=0.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="amazon-video-games")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--epochs", default="2")
    args = parser.parse_args()
    data = datasets.load(args.dataset)
    started = time.perf_counter()
    model = RECIPE.train(data, {"epochs": args.epochs}, seed=0)
    train_s = time.perf_counter() - started
    users = np.asarray(data.interactions.columns["USER_ID"])
    items = np.asarray(data.interactions.columns["ITEM_ID"])
    sample = np.random.default_rng(0).choice(np.unique(users), args.users, replace=False)
    histories = {user: items[users == user].tolist() for user in sample}
    exact = {user: set(top(model, user, histories[user], False)) for user in sample}
    model.scorer.index()
    size, rows = len(model.item_ids), []
    for share in (0.016, 0.032, 0.064):
        scoring.RETRIEVAL_BUDGET = max(1, int(share * size))
        recall = np.mean([len(exact[u] & set(top(model, u, histories[u], True))) / 25
                          for u in sample])
        rows.append([args.dataset, size, model.scorer.index().num_leaves,
                     f"{share:.1%}", scoring.RETRIEVAL_BUDGET, float(recall)])
    print_table(["dataset", "items", "leaves", "budget", "items scored", "recall@25"], rows)
    print(f"(training {train_s:.0f} s)")
    save("retrieval_recall", {"args": vars(args), "train_s": train_s, "rows": rows})


if __name__ == "__main__":
    main()
