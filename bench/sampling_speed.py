"""Training throughput of the user-personalization GRU: importance-sampled softmax
(alias-sampled negatives, log-Q corrected) vs the full softmax, at 10k, 100k and 1M items.
`--sequence-models gru transformer` also times v2's attention network on the same batches
with the sampled softmax (the full softmax is the same for both).

Synthetic Zipf-distributed sequences; the same network, batch and sequence length for both
losses; the full softmax at 1M items is timed on a handful of steps (each scores every item
for every event). Results: bench/results/sampling_speed.json

    .venv/bin/python bench/sampling_speed.py [--vocabularies 10000,100000,1000000]
        [--sequence-models gru transformer] [--sampled-only] [--optimizers adam rowwise]

The item tables' optimiser is SparseAdam, or row-wise Adagrad where Adam's two dense moments
would pass ADAM_STATE_LIMIT_BYTES (10M items: 12 GB): the second table prints each run's
tables, optimiser state and peak RSS. At 10M items, one vocabulary per run
(`--vocabularies 10000000 --sampled-only`) keeps the peak to that size's own.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import resource
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.models.user_personalization import (  # noqa: E402
    TrainingSettings, Trainer, WindowBuilder)
from chalicelib.models.user_personalization.network import (  # noqa: E402
    TRANSFORMER, build_network)
from chalicelib.models.user_personalization.settings import (  # noqa: E402
    V2_DEFAULT_HYPERPARAMETERS)
from chalicelib.models.row_adagrad import (  # noqa: E402
    ADAM_STATE_LIMIT_BYTES, RowWiseAdagrad, adam_state_bytes)
from serving_setup import CpuSteal, print_table  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sampling_speed.json"


def zipf_sequences(vocabulary: int, users: int, length: int, seed: int):
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocabulary + 1, dtype=np.float64)
    p = 1.0 / ranks ** 1.05
    items = rng.choice(vocabulary, size=users * length, p=p / p.sum())
    user_codes = np.repeat(np.arange(users), length)
    stamps = np.tile(np.arange(length, dtype=np.float64), users)
    return user_codes, items.astype(np.int64), stamps, np.bincount(items, minlength=vocabulary)


def state_bytes(optimizer) -> int:
    return sum(t.numel() * t.element_size() for state in optimizer.state.values()
               for t in state.values() if torch.is_tensor(t))


def negatives_for(rule: str, vocabulary: int) -> dict[str, str]:
    """The num_negatives hyperparameter a --negatives rule sets: none (the recipe's default),
    sqrt(V) (the default before session 12) or a number."""
    if rule == "default":
        return {}
    if rule == "sqrt":
        return {"num_negatives": str(max(16, math.ceil(math.sqrt(vocabulary))))}
    return {"num_negatives": str(int(rule))}


def measure(vocabulary: int, softmax: str, steps: int, batch: int, dim: int, seed: int = 0,
            sequence_model: str = "gru", optimizer: str = "auto", negatives: str = "default",
            estimator: str = "distinct"):
    settings = TrainingSettings.parse({**negatives_for(negatives, vocabulary),
                               "hidden_dimension": str(dim), "batch_size": str(batch),
                               "softmax": softmax, "epochs": "1000", "max_steps": str(steps),
                               "log_every_steps": "1000000", "id_dropout": "0",
                               "early_stopping_patience": "0"},
                               # each recipe's own defaults otherwise (v2: 8,192 negatives)
                               V2_DEFAULT_HYPERPARAMETERS if sequence_model == TRANSFORMER
                               else None, sequence_model=sequence_model)
    users = max(steps * batch + batch, 64)
    user_codes, items, stamps, counts = zipf_sequences(vocabulary, users, settings.bptt + 1, seed)
    hard = np.full((len(items), 0), -1, dtype=np.int64)
    builder = WindowBuilder(user_codes, items, stamps, hard, settings)
    windows = builder.windows()
    torch.manual_seed(seed)
    features = torch.zeros(vocabulary, 1)
    network = build_network(settings, vocabulary, 1)
    trainer = Trainer(network, features, counts.astype(np.float64), settings, seed,
                      lambda _: None)
    trainer.distinct_negatives = estimator == "distinct"
    if optimizer != "auto":   # the trainer picks by memory; a comparison forces one
        tables = network.sparse_parameters()
        trainer.sparse_optimizer = RowWiseAdagrad(tables, lr=settings.learning_rate) \
            if optimizer == "rowwise" else torch.optim.SparseAdam(tables, lr=settings.learning_rate)
    trainer.step(windows.inputs[:batch], windows.targets[:batch], windows.weights[:batch],
                 windows.hard_negatives[:batch])  # warm-up: allocator, first-call overheads
    summary = trainer.fit(builder)
    return {"vocabulary": vocabulary, "softmax": softmax, "sequence_model": sequence_model,
            "steps": summary["steps"],
            "events_per_step": batch * settings.bptt,
            "negatives": None if trainer.full_softmax else trainer.num_negatives,
            "estimator": estimator,
            "seconds": round(summary["seconds"], 3),
            "events_per_second": round(summary["events_per_second"], 1),
            "optimizer": type(trainer.sparse_optimizer).__name__,
            "table_mb": round(sum(p.numel() * p.element_size()
                                  for p in network.sparse_parameters()) / 2 ** 20, 1),
            "optimizer_state_mb": round(state_bytes(trainer.sparse_optimizer) / 2 ** 20, 1),
            "adam_state_mb": round(adam_state_bytes(network.sparse_parameters()) / 2 ** 20, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vocabularies", default="10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=8, help="sequences per step")
    parser.add_argument("--dim", type=int, default=149)
    parser.add_argument("--sampled-steps", type=int, default=200)
    parser.add_argument("--sequence-models", nargs="+", default=["gru"],
                        choices=["gru", "transformer"])
    parser.add_argument("--sampled-only", action="store_true",
                        help="skip the full-softmax rows (they take the longest)")
    parser.add_argument("--optimizers", nargs="+", default=["auto"],
                        choices=["auto", "adam", "rowwise"],
                        help="the item tables' optimiser: auto = the trainer's choice "
                             "(SparseAdam, row-wise Adagrad where Adam's state is over "
                             "ADAM_STATE_LIMIT_BYTES); adam is skipped where it is over")
    parser.add_argument("--negatives", nargs="+", default=["default"],
                        help="negatives per step, one row each: default (each recipe's), "
                             "sqrt (sqrt(V), the rule before session 12) or a number")
    parser.add_argument("--estimators", nargs="+", default=["distinct"],
                        choices=["distinct", "per-draw"],
                        help="score each distinct drawn item once (the trainer's way) or "
                             "every draw (before session 12)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    full_steps = {10_000: 60, 100_000: 12, 1_000_000: 3}
    rows, memory = [], []
    for vocabulary in map(int, args.vocabularies.split(",")):
        row = {"vocabulary": vocabulary}
        adam_mb = 2 * 4 * vocabulary * (args.dim + 1) / 2 ** 20
        for negatives, estimator, model, optimizer in itertools.product(
                args.negatives, args.estimators, args.sequence_models, args.optimizers):
            if optimizer == "adam" and adam_mb * 2 ** 20 > ADAM_STATE_LIMIT_BYTES:
                print(f"{vocabulary:>9} items  {model:<11} adam: state {adam_mb:.0f} MB "
                      "over the limit, skipped", flush=True)
                continue
            with CpuSteal() as steal:
                sampled = measure(vocabulary, "sampled", args.sampled_steps, args.batch,
                                  args.dim, sequence_model=model, optimizer=optimizer,
                                  negatives=negatives, estimator=estimator)
            sampled.update(cpu_steal_percent=steal.percent, load_average=os.getloadavg()[0])
            key = "sampled" if model == "gru" else f"sampled_{model}"
            if negatives != "default":
                key = f"{key}_negatives_{negatives}"
            if estimator != "distinct":
                key = f"{key}_{estimator}"
            row[key if optimizer == "auto" else f"{key}_{optimizer}"] = sampled
            memory.append([vocabulary, model, sampled["negatives"], estimator, sampled["optimizer"],
                           sampled["events_per_second"], sampled["table_mb"],
                           sampled["optimizer_state_mb"], sampled["adam_state_mb"],
                           sampled["max_rss_mb"], f"{steal.percent or 0:.0f}",
                           f"{sampled['load_average']:.2f}"])
            print(f"{vocabulary:>9} items  {model:<11} sampled {sampled['optimizer']:<14}"
                  f"{sampled['events_per_second']:>10.0f} ev/s ({sampled['negatives']} negatives)",
                  flush=True)
        if not args.sampled_only and "sampled" in row:
            full = measure(vocabulary, "full", full_steps.get(vocabulary, 5), args.batch,
                           args.dim)
            row["full"] = full
            row["speedup"] = round(row["sampled"]["events_per_second"]
                                   / full["events_per_second"], 1)
            print(f"{vocabulary:>9} items  full {full['events_per_second']:>9.1f} ev/s  "
                  f"speedup {row['speedup']:7.1f}x", flush=True)
        rows.append(row)
    print()
    columns = [k for k in rows[0] if k != "vocabulary" and k != "speedup"] if rows else []
    print(" | ".join(["items"] + [f"{c} ev/s" for c in columns]))
    for row in rows:
        print(" | ".join([str(row["vocabulary"])] + [f"{row[c]['events_per_second']:.0f}"
                                                      if c in row else "-" for c in columns]))
    print()
    print_table(["items", "model", "negatives", "scored", "item-table optimiser", "events/s", "tables MB",
                 "optimiser state MB", "Adam state would be MB", "max RSS MB", "CPU steal %",
                 "load avg"], memory)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"batch_sequences": args.batch, "hidden_dimension": args.dim,
                               "torch_threads": torch.get_num_threads(), "rows": rows},
                              indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
