"""Per-epoch training history: what the console plots and `make serve` prints."""
import json

import numpy as np

from chalicelib.training.data import TrainingData
from chalicelib.training.history import (TRAINING_HISTORY_FILE, TrainingProgress,
                                          epoch_line, read_history)
from chalicelib.training.recipes import get_recipe

EPOCHS = 3


def interactions(users=40, items=20, seed=0) -> TrainingData:
    rng = np.random.default_rng(seed)
    rows = [(f"u{u}", f"i{int(rng.integers(items))}", 1_700_000_000.0 + u * 100 + k)
            for u in range(users) for k in range(10)]
    return TrainingData.from_interactions(*map(list, zip(*rows)))


def test_training_writes_one_record_and_one_line_per_epoch(tmp_path):
    lines = []
    progress = TrainingProgress(tmp_path, lines.append)
    get_recipe("aws-user-personalization").train(
        interactions(), {"epochs": str(EPOCHS), "hidden_dimension": "16"}, seed=0,
        log=progress)
    history = read_history(tmp_path)
    epochs = history["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert all(e["epochs"] == EPOCHS and e["loss"] > 0 and e["events_per_second"] > 0
               and e["events"] > 0 for e in epochs)
    assert epochs[-1]["eta_seconds"] == 0 and epochs[0]["eta_seconds"] > 0
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert epoch_lines == [epoch_line(e) for e in epochs]
    assert "events/s, ETA" in epoch_lines[0]
    progress.save(finished=1.0, hyperparameters={"epochs": "3"})
    assert json.loads((tmp_path / TRAINING_HISTORY_FILE).read_text())["hyperparameters"] \
        == {"epochs": "3"}


def test_a_plain_log_still_gets_the_lines():
    lines = []
    get_recipe("aws-user-personalization").train(
        interactions(), {"epochs": "2", "hidden_dimension": "16"}, seed=0, log=lines.append)
    assert sum(line.startswith("epoch ") for line in lines) == 2


def test_validation_metrics_are_part_of_the_line():
    record = {"epoch": 2, "epochs": 4, "loss": 1.5, "events_per_second": 1000.0,
              "eta_seconds": 12.0, "validation": {"ndcg@10": 0.25}}
    assert epoch_line(record) == ("epoch 2/4: loss 1.5000, 1000 events/s, ETA 12 s, "
                                  "validation ndcg@10 0.2500")
