"""Contextual metadata: NDCG@10 with the right context against no context and a wrong one.

    OMP_NUM_THREADS=1 .venv/bin/python bench/context_quality.py [--datasets synthetic ml-100k]
        [--epochs 10] [--max-users 0]

Per dataset, two aws-user-personalization models trained with the recipe's own train() on
the same temporal leave-one-out split (bench/loo.py): one on the interactions without the
context column (the baseline), one with it. The context model is then asked for each
user's top 25 with the target event's own context (right), with no context, and with the
context of another user's target event (shuffled: the same values in a random order).
History events always carry their own context.

Data:
- synthetic: 1,500 users, 400 items in 8 genres of 50, 4 devices. Each user has a taste
  over the genres (Dirichlet(0.5)); each device favours 2 genres. An event's device is
  drawn from the user's own device mix, its genre with probability taste x device
  affinity (10x for the device's genres), its item Zipf within the genre. The device
  decides much of the genre; the history decides the rest.
- ml-100k: MovieLens 100K (5-core) with a derived SECTION context: one of the rated movie's
  genres, drawn at random per event. It stands for the catalogue section a request comes
  from (a "Comedy" page): information about the next item that a real request would carry,
  as a page's category does, while leaving open which of that section's movies the user
  picks. It is predictive by construction; the benchmark measures how much of it the model
  turns into ranking quality, not a real-world uplift.
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

from bench.datasets import load, movielens_movies  # noqa: E402
from bench.loo import (arguments, leave_one_out, machine_load, metrics,  # noqa: E402
                       ranked_lists)
from bench.serving_setup import CpuSteal  # noqa: E402
from chalicelib.models.data import CATEGORICAL, Table, TrainingData  # noqa: E402

RESULTS = ROOT / "bench" / "results"
UP = "aws-user-personalization"


def synthetic(seed: int = 0, users: int = 1500, genres: int = 8, per_genre: int = 50,
              devices: int = 4) -> tuple[TrainingData, str]:
    rng = np.random.default_rng(seed)
    affinity = np.full((devices, genres), 1.0)
    for device in range(devices):
        affinity[device, [2 * device % genres, (2 * device + 1) % genres]] = 10.0
    zipf = 1.0 / np.arange(1, per_genre + 1) ** 0.8
    zipf /= zipf.sum()
    rows_user, rows_item, rows_time, rows_device = [], [], [], []
    for user in range(users):
        taste = rng.dirichlet(np.full(genres, 0.5))
        mix = rng.dirichlet(np.ones(devices))
        for step in range(int(rng.integers(10, 30))):
            device = int(rng.choice(devices, p=mix))
            weights = taste * affinity[device]
            genre = int(rng.choice(genres, p=weights / weights.sum()))
            item = genre * per_genre + int(rng.choice(per_genre, p=zipf))
            rows_user.append(f"u{user}")
            rows_item.append(f"i{item}")
            rows_time.append(1.7e9 + user * 1000 + step)
            rows_device.append(["mobile", "tablet", "tv", "desktop"][device])
    data = TrainingData.from_interactions(rows_user, rows_item, rows_time,
                                          DEVICE=np.array(rows_device, dtype=object))
    data.interactions.kinds["DEVICE"] = CATEGORICAL
    return data, "DEVICE"


def movielens_sections(seed: int = 0) -> tuple[TrainingData, str]:
    data = load("ml-100k")
    genres = {movie: g or ["unknown"] for movie, _, g, _ in movielens_movies()}
    rng = np.random.default_rng(seed)
    sections = np.array([genres[str(i)][int(rng.integers(len(genres[str(i)])))]
                         for i in data.interactions.columns["ITEM_ID"]], dtype=object)
    data.interactions.columns["SECTION"] = sections
    data.interactions.kinds["SECTION"] = CATEGORICAL
    return data, "SECTION"


DATASETS = {"synthetic": synthetic, "ml-100k": movielens_sections}


def without(data: TrainingData, field: str) -> TrainingData:
    table = data.interactions
    return TrainingData(Table({k: v for k, v in table.columns.items() if k != field},
                              {k: v for k, v in table.kinds.items() if k != field}),
                        data.items, data.users)


def run(name: str, epochs: int, max_users: int, seed: int) -> list[dict]:
    from chalicelib.models import get_recipe
    data, field = DATASETS[name](seed)
    train, cases = leave_one_out(data, field, max_users, seed)
    print(f"{name}: {len(data.interactions)} interactions, {len(cases)} test users, "
          f"context field {field}", flush=True)
    params = {"epochs": str(epochs)}
    recipe = get_recipe(UP)
    rows = []

    def row(model_name, request, model, contexts, seconds):
        with CpuSteal() as steal:
            ranked = ranked_lists(model, cases, contexts)
        rows.append({"dataset": name, "model": model_name, "request_context": request,
                     **metrics(model, cases, ranked), "train_seconds": seconds,
                     "cpu_steal_percent": steal.percent, **machine_load()})
        print(format_row(rows[-1]), flush=True)

    started = time.perf_counter()
    plain = recipe.train(without(train, field), params, seed=seed)
    row("trained without context", "-", plain, None, time.perf_counter() - started)
    started = time.perf_counter()
    with CpuSteal() as steal:
        model = recipe.train(train, params, seed=seed)
    seconds = time.perf_counter() - started
    print(f"  context model trained in {seconds:.0f} s (steal {steal.percent}%)", flush=True)
    right = [c.target_context for c in cases]
    shuffled = [right[i] for i in np.random.default_rng(seed + 1).permutation(len(right))]
    row("trained with context", "none", model, None, seconds)
    row("trained with context", "shuffled (wrong)", model, shuffled, seconds)
    row("trained with context", "right", model, right, seconds)
    return rows


COLUMNS = ("dataset", "model", "request_context", "ndcg_at_10", "recall_at_10", "mrr_at_25")


def format_row(row: dict) -> str:
    return " | ".join(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c])
                      for c in COLUMNS)


def margins(rows: list[dict]) -> list[dict]:
    """Right context against the best of the others, per dataset."""
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        right = next(r["ndcg_at_10"] for r in mine if r["request_context"] == "right")
        others = max(r["ndcg_at_10"] for r in mine if r["request_context"] != "right")
        out.append({"dataset": name, "right": right, "best_other": others,
                    "margin": right - others, "ratio": right / others if others else None})
    return out


def main(argv=None) -> int:
    args = arguments(__doc__, str(RESULTS / "context_quality.json"), argv, lambda parser:
                     parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                                         choices=DATASETS))
    rows = []
    for name in args.datasets:
        rows += run(name, args.epochs, args.max_users, args.seed)
    print()
    print(" | ".join(COLUMNS))
    for row in rows:
        print(format_row(row))
    summary = margins(rows)
    for entry in summary:
        print(f"{entry['dataset']}: right {entry['right']:.4f} vs best other "
              f"{entry['best_other']:.4f}: +{entry['margin']:.4f} "
              f"(x{entry['ratio']:.2f})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"args": vars(args), "rows": rows,
                                             "margins": summary}, indent=2))
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
