"""Cold start on MovieLens-100K: 10% of the movies are held out of training entirely, then
folded in through Recipe.update() with their metadata only (genres, title text, year).
For every later interaction with a held-out movie, is it in the user's top 25?

Reported: hit rate in the top 25 of the whole catalogue and in the top 25 among the
held-out movies only, each against the hit rate of a random ranking, with exploration off
(pure metadata scoring) and on (explorationWeight 0.3: the new movies are young).
Data: /work/shared/data/ml-100k (see /work/shared/data/README.md).
Results: bench/results/cold_start.json

    .venv/bin/python bench/cold_start.py [--epochs 10] [--encoder minilm|hashed]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "ml-100k"
RESULTS = ROOT / "bench" / "results" / "cold_start.json"
TOP = 25


def load_movielens():
    from bench.datasets import movielens_movies
    ratings = np.loadtxt(DATA / "u.data", dtype=np.int64)
    movies = movielens_movies(DATA.parent)
    return (ratings, [m[0] for m in movies], [m[1] for m in movies],
            ["|".join(m[2]) for m in movies], [m[3] for m in movies])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", default="10")
    parser.add_argument("--encoder", default="minilm", choices=["minilm", "hashed"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-pairs", type=int, default=2000)
    args = parser.parse_args()
    if args.encoder == "hashed":
        os.environ["PERSONALIZE_TEXT_ENCODER"] = "hashed"
    from chalicelib.models.data import (CATEGORICAL, ID, NUMERICAL, TEXTUAL, Table,
                                        TrainingData)
    from chalicelib.models import get_recipe

    ratings, ids, titles, genre_values, years = load_movielens()
    rng = np.random.default_rng(args.seed)
    held_out = set(rng.choice(ids, size=len(ids) // 10, replace=False).tolist())
    users = ratings[:, 0].astype(str).astype(object)
    items = ratings[:, 1].astype(str).astype(object)
    stamps = ratings[:, 3].astype(np.float64)
    cold = np.array([i in held_out for i in items])

    def catalogue(keep):
        rows = [k for k, i in enumerate(ids) if keep(i)]
        pick = lambda values: np.array([values[k] for k in rows], dtype=object)  # noqa: E731
        return Table({"ITEM_ID": pick(ids), "GENRES": pick(genre_values),
                      "TITLE": pick(titles), "YEAR": np.array([years[k] for k in rows])},
                     {"ITEM_ID": ID, "GENRES": CATEGORICAL, "TITLE": TEXTUAL,
                      "YEAR": NUMERICAL})

    train = TrainingData.from_interactions(users[~cold], items[~cold], stamps[~cold])
    train.items = catalogue(lambda i: i not in held_out)
    recipe = get_recipe("aws-user-personalization")
    started = time.perf_counter()
    model = recipe.train(train, {"epochs": args.epochs}, seed=args.seed, log=print)
    train_seconds = time.perf_counter() - started
    everything = TrainingData.from_interactions(users[~cold], items[~cold], stamps[~cold])
    everything.items = catalogue(lambda i: True)  # the new movies arrive with metadata only
    started = time.perf_counter()
    model = recipe.update(model, everything, log=print)
    update_seconds = time.perf_counter() - started

    # each user's warm history in time order, to cut at each cold interaction
    order = np.lexsort((stamps, users))
    history_of: dict[str, list[tuple[float, str]]] = {}
    for k in order:
        if not cold[k]:
            history_of.setdefault(users[k], []).append((stamps[k], items[k]))
    cold_mask = np.array([i in held_out for i in model.item_ids])
    pairs = [(users[k], items[k], stamps[k]) for k in np.flatnonzero(cold)]
    if len(pairs) > args.max_pairs:  # a fixed random sample keeps the run short
        pairs = [pairs[k] for k in np.sort(rng.choice(len(pairs), args.max_pairs, replace=False))]
    results = {}
    for weight in (0.0, 0.3):
        hits = cold_hits = 0
        random_hits = random_cold_hits = 0.0
        started = time.perf_counter()
        for user, item, stamp in pairs:
            history = [i for t, i in history_of.get(user, []) if t < stamp][-50:]
            top = model.recommend(user, history, TOP, exploration_weight=weight)
            hits += item in {i for i, _ in top}
            random_hits += TOP / (len(model.item_ids) - len(set(history)))
            top_cold = model.recommend(user, history, TOP, mask=cold_mask,
                                       exploration_weight=weight)
            cold_hits += item in {i for i, _ in top_cold}
            random_cold_hits += TOP / len(held_out)
        seconds = time.perf_counter() - started
        n = len(pairs)
        results[str(weight)] = {
            "pairs": n, "hit_rate_top25_catalogue": hits / n,
            "random_top25_catalogue": random_hits / n,
            "hit_rate_top25_among_new_items": cold_hits / n,
            "random_top25_among_new_items": random_cold_hits / n,
            "ms_per_recommendation": 1000 * seconds / (2 * n)}
    print()
    print(f"{len(held_out)} held-out movies, {len(pairs)} sampled later interactions with them; "
          f"text encoder: {model.spec.text_encoder}")
    print(f"train {train_seconds:.1f} s, update (fold in {len(held_out)} movies) "
          f"{update_seconds:.2f} s")
    print(f"{'explorationWeight':>17} | {'top25 catalogue':>15} | {'random':>7} | "
          f"{'top25 among new':>15} | {'random':>7}")
    print("-" * 75)
    for weight, r in results.items():
        print(f"{weight:>17} | {r['hit_rate_top25_catalogue']:>15.3f} | "
              f"{r['random_top25_catalogue']:>7.3f} | {r['hit_rate_top25_among_new_items']:>15.3f}"
              f" | {r['random_top25_among_new_items']:>7.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"held_out_items": len(held_out), "epochs": args.epochs,
                                   "text_encoder": model.spec.text_encoder,
                                   "train_seconds": train_seconds,
                                   "update_seconds": update_seconds, "results": results},
                                  indent=2))
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
