"""SASRec's own table: our recipes against SASRec, GRU4Rec and popularity, every model trained
and scored in this one process, one after another, on fixed threads.

    .venv/bin/python bench/sasrec_table.py [--protocols a b c]
        [--models v2 v1 sasrec gru4rec popularity] [--max-seconds 3600] [--threads 1]
        [--hyperparameters NAME=VALUE ...]   # given to our recipes (ablations)

Protocols:
  (a) SASRec's published one on the Amazon video games (Video.txt), as its public code runs
      it: per user the last item = test, the second last = validation, the rest = train
      (users with < 3 items: all train); 10,000 users sampled (random.seed); the test item
      ranked among 100 random items (np.random.randint, redrawn while in the user's train
      items); the model sees train + validation. NDCG@10, HR@10/20, MRR over the 101.
  (b) the same split and users, full ranking over all items with the history (train +
      validation) excluded: NDCG@10, Recall@10/20, MRR@25, coverage of the top-10 lists.
  (c) ML-100K, our temporal leave-one-out (bench/quality.py's protocol): each user's latest
      event is the target, full ranking, history excluded.

Training data and model selection are the same for everyone: baselines train on the train
part and stop early on the validation items (each user's second-last item in (a)/(b), the
last training item in (c)); our recipes get the same events and hold each user's latest
one out themselves (validation.py) to pick their epoch. Baselines get `--max-seconds` of
training each; a baseline stopped by that budget is reported as not converged. Training
seconds: baselines count their training epochs only, ours the whole train() call.
Saves bench/results/sasrec_table.json after every model.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baselines.gru4rec import GRU4RecConfig, train_gru4rec  # noqa: E402
from bench.baselines.popularity import Popularity  # noqa: E402
from bench.baselines.sasrec import SASRecConfig, train_sasrec  # noqa: E402
from bench.datasets import DATA, load  # noqa: E402
from bench.serving_setup import CpuSteal  # noqa: E402
from chalicelib.models.data import TrainingData  # noqa: E402
from chalicelib.training.evaluation import (LIST_LENGTH, benchmark_metrics,  # noqa: E402
                                            temporal_split)

RESULTS = Path(__file__).resolve().parent / "results"
OURS = {"v2": "aws-user-personalization-v2", "v1": "aws-user-personalization"}
SAMPLED_USERS, SAMPLED_NEGATIVES = 10_000, 100
BASELINE_VALIDATION_USERS = 5000


# --- data ------------------------------------------------------------------------------------

class Sequences:
    """Integer item sequences (ids 1..num_items) per user, with what each model needs."""

    def __init__(self, name, train, valid, test, num_items):
        self.name, self.train, self.valid, self.test = name, train, valid, test
        self.num_items = num_items

    def baseline_validation(self, seed: int):
        users = [u for u in self.train if self.train[u] and self.valid.get(u)]
        rng = random.Random(seed)
        if len(users) > BASELINE_VALIDATION_USERS:
            users = sorted(rng.sample(users, BASELINE_VALIDATION_USERS))
        return [self.train[u] for u in users], [self.valid[u][0] for u in users]

    def recipe_data(self) -> TrainingData:
        """train + validation as interactions, TIMESTAMP increasing in sequence order."""
        users, items, stamps = [], [], []
        clock = 0.0
        for user in sorted(self.train):
            for item in self.train[user] + self.valid.get(user, []):
                users.append(str(user))
                items.append(str(item))
                stamps.append(clock)
                clock += 1.0
        return TrainingData.from_interactions(users, items, stamps)


def sasrec_partition(path: Path) -> Sequences:
    """The public SASRec code's data_partition."""
    sequences = defaultdict(list)
    num_users = num_items = 0
    for line in path.read_text().split("\n"):
        if not line.strip():
            continue
        user, item = (int(x) for x in line.split())
        num_users, num_items = max(num_users, user), max(num_items, item)
        sequences[user].append(item)
    train, valid, test = {}, {}, {}
    for user, items in sequences.items():
        if len(items) < 3:
            train[user], valid[user], test[user] = items, [], []
        else:
            train[user], valid[user], test[user] = items[:-2], [items[-2]], [items[-1]]
    partition = Sequences("amazon-video-games", train, valid, test, num_items)
    partition.num_users = num_users
    return partition


def sampled_cases(partition: Sequences, seed: int):
    """(user, history, [test item] + 100 negatives) exactly as the public evaluate() draws
    them (random.sample of users, np.random.randint negatives not in the train items)."""
    random.seed(seed)
    np.random.seed(seed)
    users = random.sample(range(1, partition.num_users + 1), SAMPLED_USERS) \
        if partition.num_users > SAMPLED_USERS else range(1, partition.num_users + 1)
    cases = []
    for user in users:
        train, test = partition.train.get(user, []), partition.test.get(user, [])
        if len(train) < 1 or len(test) < 1:
            continue
        rated = set(train) | {0}
        candidates = [test[0]]
        for _ in range(SAMPLED_NEGATIVES):
            item = np.random.randint(1, partition.num_items + 1)
            while item in rated:
                item = np.random.randint(1, partition.num_items + 1)
            candidates.append(int(item))
        cases.append((user, train + partition.valid[user], candidates))
    return cases


def movielens_partition():
    """ML-100K temporal leave-one-out: (Sequences with train = history minus its last
    event, valid = that event, test = the held-out one; the recipes' TrainingData)."""
    data = load("ml-100k")
    split = temporal_split(data, leave_one_out=True)
    ids = {item: k + 1 for k, item in enumerate(sorted(set(
        np.asarray(data.interactions.columns["ITEM_ID"]).astype(str).tolist())))}
    train, valid, test = {}, {}, {}
    for case in split.cases:
        history = [ids[i] for i in case.history]
        train[case.user_id], valid[case.user_id] = history[:-1], history[-1:]
        test[case.user_id] = [ids[case.held_out[0]]]
    partition = Sequences("ml-100k", train, valid, test, len(ids))
    partition.item_names = {v: k for k, v in ids.items()}
    return partition, split


# --- models ------------------------------------------------------------------------------------

class RecipeScorer:
    """One of our trained recipes, asked as serving asks it (item ids are strings)."""

    def __init__(self, model):
        self.model = model

    def candidate_scores(self, user, history, candidates):
        scores = dict(self.model.rank(str(user), [str(i) for i in history],
                                      [str(c) for c in candidates]))
        return np.array([scores[str(c)] for c in candidates])

    def top(self, user, history, k):
        return [int(i) for i, _ in self.model.recommend(str(user), [str(i) for i in history],
                                                        k, exploration_weight=0.0)]


class BaselineScorer:
    def __init__(self, module):
        self.module = module

    def candidate_scores(self, user, history, candidates):
        with torch.no_grad():
            scores = self.module.score_batch([history])[0]
        return scores[torch.tensor(candidates)].numpy()

    def top(self, user, history, k):
        with torch.no_grad():
            scores = self.module.score_batch([history])[0].clone()
        scores[0] = float("-inf")
        scores[torch.tensor(history, dtype=torch.long)] = float("-inf")
        return torch.topk(scores, k).indices.tolist()


def train_model(key: str, partition: Sequences, recipe_data, dense: bool, args, log):
    """(scorer, epochs, best epoch, training seconds, converged, notes)."""
    if key in OURS:
        from chalicelib.models import get_recipe
        lines = []

        def keep(line):
            if not line.startswith("step"):
                lines.append(line)
                log(f"  {key}: {line}")
        started = time.perf_counter()
        model = get_recipe(OURS[key]).train(recipe_data, dict(args.hyperparameters),
                                            seed=args.seed, log=keep)
        seconds = time.perf_counter() - started
        kept = [line for line in lines if line.startswith("early stopping")]
        run = sum(1 for line in lines if line.startswith("epoch "))
        best = int(kept[0].split()[4]) if kept else run
        return RecipeScorer(model), run, best, seconds, True, lines[-1:]
    sequences = list(partition.train.values())
    if key == "popularity":
        started = time.perf_counter()
        model = Popularity([s + partition.valid.get(u, []) for u, s in partition.train.items()],
                           partition.num_items)
        return BaselineScorer(model), 0, 0, time.perf_counter() - started, True, []
    validation = partition.baseline_validation(args.seed)
    if key == "sasrec":
        config = SASRecConfig(maxlen=200 if dense else 50, dropout=0.2 if dense else 0.5)
        config.training.max_epochs, config.training.patience = (args.sasrec_max_epochs,
                                                                args.patience)
        model, report = train_sasrec(sequences, partition.num_items, validation, config,
                                     args.seed, args.max_seconds, log)
    else:
        config = GRU4RecConfig()
        config.training.max_epochs = args.gru4rec_max_epochs
        model, report = train_gru4rec(sequences, partition.num_items, validation, config,
                                      args.seed, args.max_seconds, log)
    return (BaselineScorer(model), report.epochs_run, report.best_epoch, report.seconds,
            report.converged, [f"stopped by {report.stopped_by}"])


# --- scoring -------------------------------------------------------------------------------------

def sampled_metrics(scorer, cases) -> dict[str, float]:
    ranks = []
    for user, history, candidates in cases:
        scores = scorer.candidate_scores(user, history, candidates)
        ranks.append(int((scores[1:] > scores[0]).sum()))
    ranks = np.asarray(ranks)
    return {"ndcg_at_10": float(np.where(ranks < 10, 1 / np.log2(ranks + 2), 0).mean()),
            "recall_at_10": float((ranks < 10).mean()),
            "recall_at_20": float((ranks < 20).mean()),
            "mrr": float((1.0 / (ranks + 1)).mean()), "users": len(ranks)}


def full_metrics(scorer, cases, num_items) -> dict[str, float]:
    ranked = [[str(i) for i in scorer.top(user, history, LIST_LENGTH)]
              for user, history, target in cases]
    metrics = benchmark_metrics(ranked, [{str(target)} for _, _, target in cases],
                                [str(i) for i in range(1, num_items + 1)])
    return {**metrics, "users": len(cases)}


# --- the run -------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocols", nargs="+", default=["a", "b", "c"],
                        choices=["a", "b", "c"])
    parser.add_argument("--models", nargs="+", default=["v2", "v1", "sasrec", "gru4rec",
                                                        "popularity"],
                        choices=["v2", "v1", "sasrec", "gru4rec", "popularity"])
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="training budget of each baseline (a stopped one is reported)")
    parser.add_argument("--sasrec-max-epochs", type=int, default=300)
    parser.add_argument("--gru4rec-max-epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=10, help="SASRec's early stopping")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(RESULTS / "sasrec_table.json"))
    parser.add_argument("--hyperparameters", nargs="*", default=[], type=_hyperparameter,
                        metavar="NAME=VALUE",
                        help="our recipes' hyperparameters over their defaults, e.g. "
                             "num_negatives=152 (the default before session 12)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    runs = []
    if {"a", "b"} & set(args.protocols):
        runs.append(("video", sasrec_partition(DATA / "amazon-video-games" / "Video.txt")))
    if "c" in args.protocols:
        runs.append(("ml-100k", movielens_partition()))

    def log(line):
        print(line, flush=True)

    for kind, partition in runs:
        if kind == "video":
            cases = sampled_cases(partition, args.seed)
            recipe_data, dense = partition.recipe_data(), False
            log(f"amazon-video-games: {partition.num_users} users, {partition.num_items} "
                f"items, {len(cases)} test users")
        else:
            partition, split = partition
            recipe_data, dense = split.train, True
            cases = [(u, partition.train[u] + partition.valid[u], None) for u in partition.test]
            log(f"ml-100k: {len(partition.train)} users, {partition.num_items} items")
        for key in args.models:
            load_before = os.getloadavg()[0]
            with CpuSteal() as steal:
                scorer, epochs, best, seconds, converged, notes = train_model(
                    key, partition, recipe_data, dense, args, log)
            if kind == "ml-100k" and key in OURS:   # ours speak the dataset's own item ids
                scorer = NamedItems(scorer, partition.item_names)
            common = {"model": key, "epochs_run": epochs, "best_epoch": best,
                      "train_seconds": seconds, "converged": converged, "notes": notes,
                      "load_average": [load_before, os.getloadavg()[0]],
                      "cpu_steal_percent": steal.percent, "threads": args.threads}
            if kind == "video" and "a" in args.protocols:
                rows.append({"protocol": "a", "dataset": partition.name, **common,
                             **sampled_metrics(scorer, cases)})
                log(format_row(rows[-1]))
            if kind == "video" and "b" in args.protocols:
                full = [(u, h, partition.test[u][0]) for u, h, _ in cases]
                rows.append({"protocol": "b", "dataset": partition.name, **common,
                             **full_metrics(scorer, full, partition.num_items)})
                log(format_row(rows[-1]))
            if kind == "ml-100k":
                full = [(u, h, partition.test[u][0]) for u, h, _ in cases]
                rows.append({"protocol": "c", "dataset": partition.name, **common,
                             **full_metrics(scorer, full, partition.num_items)})
                log(format_row(rows[-1]))
            save(args, rows)
    print()
    print(table(rows))
    print(f"saved {save(args, rows)}")
    return 0


def _hyperparameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


class NamedItems:
    """Our recipes on ML-100K know items by their MovieLens ids; the table by 1..N."""

    def __init__(self, scorer, names):
        self.scorer, self.names = scorer, names
        self.codes = {name: code for code, name in names.items()}

    def candidate_scores(self, user, history, candidates):
        return self.scorer.candidate_scores(user, [self.names[i] for i in history],
                                            [self.names[c] for c in candidates])

    def top(self, user, history, k):
        model = self.scorer.model
        return [self.codes[i] for i, _ in model.recommend(
            str(user), [self.names[i] for i in history], k, exploration_weight=0.0)]


def save(args, rows) -> Path:
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
    return out


COLUMNS = ("protocol", "dataset", "model", "best_epoch", "epochs_run", "ndcg_at_10",
           "recall_at_10", "recall_at_20", "mrr", "coverage_at_10", "train_seconds",
           "converged")


def format_row(row: dict) -> str:
    values = []
    for column in COLUMNS:
        value = row.get(column, row.get("mrr_at_25") if column == "mrr" else None)
        values.append("-" if value is None else f"{value:.4f}" if isinstance(value, float)
                      and column != "train_seconds" else f"{value:.0f}"
                      if column == "train_seconds" else str(value))
    return " | ".join(values)


def table(rows) -> str:
    return "\n".join([" | ".join(COLUMNS), " | ".join("---" for _ in COLUMNS)]
                     + [format_row(r) for r in rows])


if __name__ == "__main__":
    sys.exit(main())
