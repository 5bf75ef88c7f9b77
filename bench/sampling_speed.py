"""Training throughput of the user-personalization GRU: importance-sampled softmax
(alias-sampled negatives, log-Q corrected) vs the full softmax, at 10k, 100k and 1M items.
`--sequence-models gru transformer` also times v2's attention network on the same batches
with the sampled softmax (the full softmax is the same for both).

Synthetic Zipf-distributed sequences; the same network, batch and sequence length for both
losses; the full softmax at 1M items is timed on a handful of steps (each scores every item
for every event). Results: bench/results/sampling_speed.json

    .venv/bin/python bench/sampling_speed.py [--vocabularies 10000,100000,1000000]
        [--sequence-models gru transformer] [--sampled-only]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.training.recipes.user_personalization import (  # noqa: E402
    Settings, Trainer, WindowBuilder)
from chalicelib.training.recipes.user_personalization.network import build_network  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sampling_speed.json"


def zipf_sequences(vocabulary: int, users: int, length: int, seed: int):
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocabulary + 1, dtype=np.float64)
    p = 1.0 / ranks ** 1.05
    items = rng.choice(vocabulary, size=users * length, p=p / p.sum())
    user_codes = np.repeat(np.arange(users), length)
    stamps = np.tile(np.arange(length, dtype=np.float64), users)
    return user_codes, items.astype(np.int64), stamps, np.bincount(items, minlength=vocabulary)


def measure(vocabulary: int, softmax: str, steps: int, batch: int, dim: int, seed: int = 0,
            sequence_model: str = "gru"):
    settings = Settings.parse({"hidden_dimension": str(dim), "batch_size": str(batch),
                               "softmax": softmax, "epochs": "1000", "max_steps": str(steps),
                               "log_every_steps": "1000000", "id_dropout": "0",
                               "early_stopping_patience": "0"}, sequence_model=sequence_model)
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
    trainer.step(windows.inputs[:batch], windows.targets[:batch], windows.weights[:batch],
                 windows.hard_negatives[:batch])  # warm-up: allocator, first-call overheads
    summary = trainer.fit(builder)
    return {"vocabulary": vocabulary, "softmax": softmax, "sequence_model": sequence_model,
            "steps": summary["steps"],
            "events_per_step": batch * settings.bptt,
            "negatives": None if trainer.full_softmax else trainer.num_negatives,
            "seconds": round(summary["seconds"], 3),
            "events_per_second": round(summary["events_per_second"], 1)}


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
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    full_steps = {10_000: 60, 100_000: 12, 1_000_000: 3}
    rows = []
    for vocabulary in map(int, args.vocabularies.split(",")):
        row = {"vocabulary": vocabulary}
        for model in args.sequence_models:
            sampled = measure(vocabulary, "sampled", args.sampled_steps, args.batch, args.dim,
                              sequence_model=model)
            row["sampled" if model == "gru" else f"sampled_{model}"] = sampled
            print(f"{vocabulary:>9} items  {model:<11} sampled "
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
                                                      for c in columns]))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"batch_sequences": args.batch, "hidden_dimension": args.dim,
                               "torch_threads": torch.get_num_threads(), "rows": rows},
                              indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
