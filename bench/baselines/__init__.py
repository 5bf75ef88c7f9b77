"""Baselines for bench/sasrec_table.py, written here (no RecBole needed): SASRec (Kang &
McAuley 2018) with a softmax (CE) loss, GRU4Rec with the official implementation's
cross-entropy settings, and popularity. Each trains on integer item sequences (ids 1..N,
0 = padding) and scores items for a history; `fit_with_early_stopping` is the shared loop
(validation NDCG@10 after every epoch, patience, a wall-clock budget, the best epoch kept).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch


@dataclass
class TrainingSettings:
    """What every baseline's training loop takes (each model's config adds its own)."""
    learning_rate: float
    batch_size: int
    max_epochs: int
    patience: int


@dataclass
class FitReport:
    epochs_run: int = 0
    best_epoch: int = 0
    best_validation_ndcg: float = -1.0
    seconds: float = 0.0
    converged: bool = False          # stopped by patience (not by max epochs or the budget)
    stopped_by: str = ""
    history: list = field(default_factory=list)


def validation_ndcg(score_batch: Callable[[list[list[int]]], torch.Tensor],
                    histories: list[list[int]], targets: list[int], batch: int = 256) -> float:
    """Mean NDCG@10 of each target among all items, the history's items excluded."""
    total = 0.0
    for start in range(0, len(targets), batch):
        chunk = histories[start:start + batch]
        with torch.no_grad():
            scores = score_batch(chunk).clone()
        scores[:, 0] = float("-inf")
        for row, history in enumerate(chunk):
            scores[row, torch.tensor(history, dtype=torch.long)] = float("-inf")
        wanted = torch.tensor(targets[start:start + batch])
        target_scores = scores[torch.arange(len(chunk)), wanted]
        rank = (scores > target_scores[:, None]).sum(1)
        total += float(torch.where(rank < 10, 1.0 / torch.log2(rank + 2.0),
                                   torch.zeros(())).sum())
    return total / max(len(targets), 1)


def fit_with_early_stopping(module: torch.nn.Module, train_epoch: Callable[[int], float],
                            validate: Callable[[], float], max_epochs: int, patience: int,
                            max_seconds: float, log: Callable[[str], None] = print,
                            name: str = "") -> FitReport:
    """Train epoch by epoch; after each, validate; stop after `patience` epochs without a
    better validation NDCG@10, at max_epochs, or once max_seconds of training are spent;
    restore the best epoch's weights. Only training epochs count towards `seconds`."""
    report, best_state = FitReport(), None
    for epoch in range(1, max_epochs + 1):
        module.train()
        started = time.perf_counter()
        loss = train_epoch(epoch)
        report.seconds += time.perf_counter() - started
        module.eval()
        ndcg = validate()
        report.epochs_run = epoch
        report.history.append({"epoch": epoch, "loss": loss, "validation_ndcg_at_10": ndcg,
                               "train_seconds": report.seconds})
        log(f"  {name} epoch {epoch}: loss {loss:.4f}, validation NDCG@10 {ndcg:.4f}, "
            f"{report.seconds:.0f} s")
        if ndcg > report.best_validation_ndcg:
            report.best_validation_ndcg, report.best_epoch = ndcg, epoch
            best_state = copy.deepcopy(module.state_dict())
        if epoch - report.best_epoch >= patience:
            report.converged, report.stopped_by = True, f"patience {patience}"
            break
        if report.seconds >= max_seconds:
            report.stopped_by = f"time budget {max_seconds:.0f} s"
            break
    else:
        report.stopped_by = f"max epochs {max_epochs}"
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return report


def left_padded(histories: list[list[int]], length: int) -> torch.Tensor:
    """[B, length] the latest `length` items of each history, left-padded with 0."""
    out = np.zeros((len(histories), length), dtype=np.int64)
    for row, history in enumerate(histories):
        recent = history[-length:]
        if recent:
            out[row, length - len(recent):] = recent
    return torch.from_numpy(out)
