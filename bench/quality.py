"""Recommendation quality: our recipes against RecBole's SASRec and GRU4Rec on the same split.

    .venv/bin/python bench/quality.py [--datasets ml-100k amazon-video-games]
        [--models user-personalization popularity sasrec gru4rec] [--epochs 5]
        [--max-users 5000]

Protocol (identical for every model): users and items with >= 5 interactions (iterated
until stable), temporal leave-one-out per user (each user's latest interaction is the test
target, everything before is training data and the user's history at test time), full
ranking over all items with the user's history items excluded, top-25 lists scored by
chalicelib/training/evaluation.py: NDCG@10, Recall@10/20, MRR@25, coverage of the top-10
lists. RecBole gets the identical training events as atomic files (per-user order kept);
its models score through their own full_sort_predict. Prints a table and writes
bench/results/quality.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PERSONALIZE_TEXT_ENCODER", "hashed")

from bench.datasets import DATASETS, load  # noqa: E402
from chalicelib.training.evaluation import (LIST_LENGTH, TestCase, benchmark_metrics,  # noqa: E402
                                            temporal_split)

RESULTS = ROOT / "bench" / "results"
OURS = {"user-personalization": "aws-user-personalization", "popularity": "aws-popularity-count"}
RECBOLE = {"sasrec": "SASRec", "gru4rec": "GRU4Rec"}
MAX_SEQUENCE = 50  # RecBole's history window (MAX_ITEM_LIST_LENGTH)


# --- our recipes ----------------------------------------------------------------------------

def run_ours(model_key: str, split, cases: list[TestCase], epochs: int, max_steps: int):
    from chalicelib.models import get_recipe
    recipe = get_recipe(OURS[model_key])
    params = {"epochs": str(epochs), "max_steps": str(max_steps)} \
        if model_key == "user-personalization" else {}
    started = time.perf_counter()
    model = recipe.train(split.train, params, seed=0)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ranked = [[i for i, _ in model.recommend(c.user_id, c.history, LIST_LENGTH,
                                             exploration_weight=0.0)] for c in cases]
    return ranked, model.item_ids, train_seconds, time.perf_counter() - started


# --- RecBole --------------------------------------------------------------------------------

def write_atomic(directory: Path, name: str, split, cases_all: list[TestCase]) -> None:
    """<name>.inter with every user's training events then their test event, with
    per-user increasing timestamps, so that RecBole's leave-one-out ('test_only') trains on
    exactly our training events."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["user_id:token\titem_id:token\ttimestamp:float"]
    for case in cases_all:
        for step, item in enumerate(case.history + case.held_out[:1]):
            lines.append(f"{case.user_id}\t{item}\t{step}")
    (directory / f"{name}.inter").write_text("\n".join(lines) + "\n")


def numpy2_aliases_for_recbole() -> None:
    """RecBole 1.2.1 still uses aliases NumPy 2 removed; point them at their successors
    (the venv has NumPy 2, which the rest of the project wants)."""
    for alias, target in (("float_", np.float64), ("NaN", np.nan), ("Inf", np.inf),
                          ("bool8", np.bool_), ("int_", np.int64), ("unicode_", np.str_),
                          ("complex_", np.complex128), ("string_", np.bytes_)):
        if not hasattr(np, alias):
            setattr(np, alias, target)


def run_recbole(model_key: str, dataset: str, split, cases_all, cases, epochs: int,
                checkpoints: list[int]):
    """Trains `epochs` epochs with RecBole's own Trainer (its _train_epoch: optimizer, loss,
    clipping as fit runs them; no validation); after each epoch in `checkpoints` (and the
    last) the model is scored. Yields (epoch, ranked, catalogue, train_seconds so far,
    eval_seconds): one result per checkpoint, timing only the training epochs."""
    import torch
    numpy2_aliases_for_recbole()
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import GRU4Rec, SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_seed
    # recbole.model.sequential_recommender imports sine.py, which turns on autograd anomaly
    # detection for the whole process at import time (a NaN check after every backward op:
    # ~6x slower training here). Neither SASRec nor GRU4Rec asks for it: switch it off.
    torch.autograd.set_detect_anomaly(False)
    work = RESULTS / "recbole"
    write_atomic(work / dataset, dataset, split, cases_all)
    config = Config(model=RECBOLE[model_key], dataset=dataset, config_dict={
        "data_path": str(work), "checkpoint_dir": str(work / "saved"),
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": MAX_SEQUENCE, "epochs": epochs, "train_batch_size": 256,
        "loss_type": "CE", "train_neg_sample_args": None, "device": "cpu", "use_gpu": False,
        "eval_args": {"split": {"LS": "test_only"}, "order": "TO", "mode": "full",
                      "group_by": "user"},
        "show_progress": False, "seed": 0, "reproducibility": True, "log_wandb": False,
        "worker": 0})
    init_seed(config["seed"], config["reproducibility"])
    data = create_dataset(config)
    train_data, _, _ = data_preparation(config, data)
    model = {"sasrec": SASRec, "gru4rec": GRU4Rec}[model_key](config, train_data.dataset)
    trainer = Trainer(config, model)
    train_seconds = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        started = time.perf_counter()
        loss = trainer._train_epoch(train_data, epoch - 1, show_progress=False)
        train_seconds += time.perf_counter() - started
        print(f"  {model_key} epoch {epoch}: loss {loss:.2f}, {train_seconds:.0f} s", flush=True)
        if epoch in checkpoints or epoch == epochs:
            started = time.perf_counter()
            ranked, catalogue = recbole_rankings(model, data, cases)
            yield epoch, ranked, catalogue, train_seconds, time.perf_counter() - started


def recbole_rankings(model, data, cases):
    import torch
    from recbole.data.interaction import Interaction
    model.eval()
    tokens = data.field2id_token["item_id"]
    ranked = []
    for start in range(0, len(cases), 256):
        batch = cases[start:start + 256]
        sequences = np.zeros((len(batch), MAX_SEQUENCE), dtype=np.int64)
        lengths = np.zeros(len(batch), dtype=np.int64)
        for row, case in enumerate(batch):
            ids = data.token2id("item_id", case.history[-MAX_SEQUENCE:])
            sequences[row, :len(ids)] = ids
            lengths[row] = len(ids)
        inter = Interaction({"item_id_list": torch.from_numpy(sequences),
                             "item_length": torch.from_numpy(lengths)})
        with torch.no_grad():
            scores = model.full_sort_predict(inter).view(len(batch), -1)
        scores[:, 0] = -np.inf  # padding id
        for row, case in enumerate(batch):  # the same rule as ours: history excluded
            scores[row, torch.from_numpy(np.asarray(data.token2id("item_id", case.history)))] \
                = -np.inf
        top = torch.topk(scores, LIST_LENGTH, dim=1).indices.numpy()
        ranked += [[str(tokens[i]) for i in row] for row in top]
    return ranked, list(tokens[1:])


# --- the run --------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--models", nargs="+", default=[*OURS, *RECBOLE],
                        choices=[*OURS, *RECBOLE])
    parser.add_argument("--epochs", type=int, default=5, help="for every trained model")
    parser.add_argument("--max-steps", type=int, default=0,
                        help="cap on our GRU's training steps (0 = none)")
    parser.add_argument("--recbole-epochs", type=int, default=None,
                        help="epochs for SASRec/GRU4Rec (default: --epochs)")
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[],
                        help="RecBole epochs after which to score as well (one row each)")
    parser.add_argument("--max-users", type=int, default=5000,
                        help="test users per dataset (a seeded sample, the same for all)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for every model (1: on a shared 2-core machine "
                             "a second OpenMP thread spin-waits on a busy core)")
    parser.add_argument("--output", default=str(RESULTS / "quality.json"))
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    for dataset in args.datasets:
        data = load(dataset)
        split = temporal_split(data, leave_one_out=True)
        cases_all = split.cases
        rng = np.random.default_rng(0)
        cases = cases_all if len(cases_all) <= args.max_users else \
            [cases_all[i] for i in sorted(rng.choice(len(cases_all), args.max_users,
                                                     replace=False))]
        print(f"{dataset}: {len(data.interactions)} interactions, {len(cases_all)} users, "
              f"{len(cases)} scored", flush=True)
        for model_key in args.models:
            try:
                if model_key in OURS:
                    ranked, catalogue, train_seconds, eval_seconds = run_ours(
                        model_key, split, cases, args.epochs, args.max_steps)
                    results = [(args.epochs if model_key != "popularity" else 0, ranked,
                                catalogue, train_seconds, eval_seconds)]
                else:
                    results = run_recbole(model_key, dataset, split, cases_all, cases,
                                          args.recbole_epochs or args.epochs,
                                          args.checkpoints)
                for epochs, ranked, catalogue, train_seconds, eval_seconds in results:
                    metrics = benchmark_metrics(ranked, [set(c.held_out) for c in cases],
                                                catalogue)
                    rows.append({"dataset": dataset, "model": model_key, "epochs": epochs,
                                 **metrics, "train_seconds": train_seconds,
                                 "eval_seconds": eval_seconds})
                    print(format_row(rows[-1]), flush=True)
                    save(args, rows, notes)
            except Exception as error:  # a missing optional package skips one row
                notes.append(f"{dataset}/{model_key} skipped: {type(error).__name__}: {error}")
                print(notes[-1], flush=True)
                continue
    print()
    print(table(rows))
    for note in notes:
        print(note)
    print(f"saved {save(args, rows, notes)}")
    return 0


def save(args, rows: list[dict], notes: list[str]) -> Path:
    """Written after every row, so that a run stopped part-way keeps what it measured."""
    out = Path(args.output)
    out.write_text(json.dumps({"args": vars(args), "rows": rows, "notes": notes}, indent=2))
    return out


COLUMNS = ("dataset", "model", "epochs", "ndcg_at_10", "recall_at_10", "recall_at_20", "mrr_at_25",
           "coverage_at_10", "train_seconds")


def format_row(row: dict) -> str:
    return " | ".join(f"{row[c]:.4f}" if isinstance(row[c], float) and c != "train_seconds"
                      else (f"{row[c]:.1f}" if c == "train_seconds" else str(row[c]))
                      for c in COLUMNS)


def table(rows: list[dict]) -> str:
    header = " | ".join(COLUMNS)
    return "\n".join([header, " | ".join("---" for _ in COLUMNS)] + [format_row(r) for r in rows])


if __name__ == "__main__":
    sys.exit(main())
