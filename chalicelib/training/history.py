"""The training history: one structured record per epoch, kept beside the model.

A recipe gets a `log` callable (docs/ARCHITECTURE.md). The training task hands it a
TrainingProgress, which is such a callable (text lines go to the task log) and also takes
epoch records: `report_epoch(log, ...)` writes the text line every log gets and, where the
log is a TrainingProgress, the record as well. The records are rewritten to
TRAINING_HISTORY_FILE after every epoch, so the console can plot a training while it runs
and the embedded server can print one line per epoch (see `epoch_line`).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

TRAINING_HISTORY_FILE = "training_history.json"


def eta_seconds(done: int, total: int, elapsed: float) -> float:
    """Seconds left at the mean pace of the epochs so far."""
    return elapsed / done * (total - done) if done else 0.0


def epoch_line(record: dict) -> str:
    """'epoch 3/10: loss 6.1234, 12345 events/s, ETA 42 s[, validation ndcg@10 0.1]'."""
    text = (f"epoch {record['epoch']}/{record['epochs']}: loss {record['loss']:.4f}, "
            f"{record['events_per_second']:.0f} events/s, ETA {record['eta_seconds']:.0f} s")
    for name, value in (record.get("validation") or {}).items():
        text += f", validation {name} {value:.4f}"
    return text


def report_epoch(log: Callable[[str], None], epoch: int, epochs: int, loss: float,
                 events: int, seconds: float, elapsed: float,
                 validation: dict[str, float] | None = None) -> dict:
    """One finished epoch (1-based): its text line to `log`, its record to the history
    when `log` keeps one. `seconds` is the epoch's, `elapsed` the training's so far."""
    record = {"epoch": epoch, "epochs": epochs, "loss": float(loss), "events": int(events),
              "seconds": float(seconds),
              "events_per_second": float(events) / max(seconds, 1e-9),
              "eta_seconds": eta_seconds(epoch, epochs, elapsed),
              "validation": {k: float(v) for k, v in (validation or {}).items()}}
    log(epoch_line(record))
    keep = getattr(log, "record_epoch", None)
    if keep is not None:
        keep(record)
    return record


class TrainingProgress:
    """The log of one training task: text to `write`, epochs to TRAINING_HISTORY_FILE."""

    def __init__(self, directory: Path, write: Callable[[str], None]):
        self.path = Path(directory) / TRAINING_HISTORY_FILE
        self.write = write
        self.started = time.time()
        self.epochs: list[dict] = []

    def __call__(self, message: str) -> None:
        self.write(message)

    def record_epoch(self, record: dict) -> None:
        self.epochs.append({**record, "at": time.time()})
        self.save()

    def save(self, **summary) -> None:
        """Atomically (a reader never sees half a file): write a sibling, then rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({"started": self.started, "epochs": self.epochs,
                                       **summary}))
        os.replace(partial, self.path)


def read_history(directory: Path) -> dict | None:
    """What TrainingProgress wrote for a model directory (None before the first epoch or
    for recipes that train without epochs)."""
    try:
        return json.loads((Path(directory) / TRAINING_HISTORY_FILE).read_text())
    except (OSError, ValueError):
        return None
