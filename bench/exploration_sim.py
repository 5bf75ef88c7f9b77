"""Exploration simulation after AWS's description of explorationWeight: each round one
user and 10 items; one recommendation per step for 300 steps; the users' interest flips
from items x0-x4 to x5-x9 at step 100; feedback (clicks) is folded in with Recipe.update()
every 10 steps, which refreshes popularity and exploration statistics (not the GRU).

Pure exploitation (explorationWeight 0) keeps serving the old interest after the flip and
earns nothing; with exploration (0.3) the new interest is found and reward recovers.
Results: bench/results/exploration_sim.json (+ exploration_sim.png with matplotlib).

    .venv/bin/python bench/exploration_sim.py [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PERSONALIZE_TEXT_ENCODER", "hashed")

from chalicelib.models.data import CATEGORICAL, ID, TIMESTAMP, Table, TrainingData  # noqa: E402
from chalicelib.models import get_recipe  # noqa: E402

RESULTS = ROOT / "bench" / "results"
T0 = 1_750_000_000.0
HOUR = 3600.0
ITEMS = [f"x{k}" for k in range(10)]
OLD_INTEREST, NEW_INTEREST = set(ITEMS[:5]), set(ITEMS[5:])
STEPS, FLIP, UPDATE_EVERY, WINDOW = 300, 100, 10, 25
HYPERPARAMETERS = {"hidden_dimension": "32", "epochs": "20", "learning_rate": "0.01",
                   "popularity_half_life_days": "1"}


def population(seed: int) -> TrainingData:
    """What the model is first trained on: earlier users who liked the old interest."""
    rng = np.random.default_rng(seed)
    users, items, stamps = [], [], []
    for user in range(100):
        for step in range(5):
            users.append(f"p{user}")
            items.append(str(rng.choice(sorted(OLD_INTEREST))))
            stamps.append(T0 + user + step * 0.01)
    table = Table({"ITEM_ID": np.array(ITEMS, dtype=object),
                   "GENRE": np.array(["a"] * 5 + ["b"] * 5, dtype=object),
                   "CREATION_TIMESTAMP": np.full(10, T0)},
                  {"ITEM_ID": ID, "GENRE": CATEGORICAL, "CREATION_TIMESTAMP": TIMESTAMP})
    data = TrainingData.from_interactions(users, items, stamps, impression=[""] * len(users))
    data.items = table
    return data


def with_events(base: TrainingData, events: list[tuple]) -> TrainingData:
    columns = base.interactions.columns
    if events:
        users, items, stamps, shown = zip(*events)
    else:
        users, items, stamps, shown = (), (), (), ()
    data = TrainingData.from_interactions(
        np.r_[columns["USER_ID"], np.array(users, dtype=object)],
        np.r_[columns["ITEM_ID"], np.array(items, dtype=object)],
        np.r_[columns["TIMESTAMP"], np.array(stamps, dtype=np.float64)],
        impression=np.r_[columns["IMPRESSION"], np.array(shown, dtype=object)])
    data.items = base.items
    return data


def simulate(recipe, trained, base: TrainingData, weight: float, seed: int) -> list[float]:
    """Each step a user arrives (no history yet), is shown one item and clicks it when it
    matches the current interest (90% of the time)."""
    rng = np.random.default_rng(seed)
    model = trained
    events, rewards = [], []
    for step in range(STEPS):
        now = T0 + HOUR * (step + 1)
        interest = OLD_INTEREST if step < FLIP else NEW_INTEREST
        user = f"s{step}"
        shown = model.recommend(user, [], 1, exploration_weight=weight, now=now)[0][0]
        clicked = shown in interest and rng.random() < 0.9
        rewards.append(float(clicked))
        if clicked:  # impressions travel with the interaction they were seen with
            events.append((user, shown, now, shown))
        if (step + 1) % UPDATE_EVERY == 0:
            model = recipe.update(model, with_events(base, events))
    return rewards


def window_means(rewards: np.ndarray) -> list[float]:
    return [float(rewards[s:s + WINDOW].mean()) for s in range(0, len(rewards), WINDOW)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weights", default="0,0.3")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = get_recipe("aws-user-personalization")
    weights = [float(w) for w in args.weights.split(",")]
    curves = {w: [] for w in weights}
    for run in range(args.runs):
        base = population(run)
        trained = recipe.train(base, HYPERPARAMETERS, seed=run)
        for weight in weights:
            curves[weight].append(simulate(recipe, trained, base, weight, seed=100 + run))
    mean = {w: np.mean(np.array(c), axis=0) for w, c in curves.items()}
    header = "steps     | " + " | ".join(f"w={w:<4}" for w in weights)
    print(f"mean reward per {WINDOW}-step window ({args.runs} runs; interest flips at {FLIP})")
    print(header)
    print("-" * len(header))
    for k, start in enumerate(range(0, STEPS, WINDOW)):
        values = " | ".join(f"{window_means(mean[w])[k]:6.2f}" for w in weights)
        print(f"{start:>3}-{start + WINDOW - 1:<5} | {values}")
    summary = {str(w): {"before_flip": float(mean[w][:FLIP].mean()),
                        "after_flip": float(mean[w][FLIP:].mean()),
                        "last_100": float(mean[w][-100:].mean()),
                        "windows": window_means(mean[w])} for w in weights}
    print()
    for w, s in summary.items():
        print(f"w={w}: before flip {s['before_flip']:.2f}, after flip {s['after_flip']:.2f}, "
              f"last 100 steps {s['last_100']:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "exploration_sim.json").write_text(json.dumps(
        {"runs": args.runs, "steps": STEPS, "flip": FLIP, "update_every": UPDATE_EVERY,
         "summary": summary}, indent=2))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        figure, axis = plt.subplots(figsize=(8, 4))
        for w in weights:
            smooth = np.convolve(mean[w], np.ones(10) / 10, mode="valid")
            axis.plot(np.arange(len(smooth)) + 10, smooth, label=f"explorationWeight {w}")
        axis.axvline(FLIP, color="grey", linestyle="--", label="interest flips")
        axis.set_xlabel("step")
        axis.set_ylabel("reward (10-step moving average)")
        axis.legend()
        figure.tight_layout()
        figure.savefig(RESULTS / "exploration_sim.png", dpi=100)
        print("written bench/results/exploration_sim.json and exploration_sim.png")
    except ImportError:
        print("written bench/results/exploration_sim.json (no matplotlib: no plot)")


if __name__ == "__main__":
    main()
