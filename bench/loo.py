"""Temporal leave-one-out with each event's context, shared by bench/context_quality.py and
bench/objective_optimisation.py: the same protocol as bench/quality.py (each user's latest
event is the target, everything before is training data and the history), plus the
context column of every history event and of the target."""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np

from chalicelib.models.data import Table, TrainingData
from chalicelib.training.evaluation import LIST_LENGTH, benchmark_metrics


@dataclass
class Case:
    user_id: str
    history: list[str]
    history_context: list[dict]
    target: str
    target_context: dict


def leave_one_out(data: TrainingData, field: str | None = None,
                  max_users: int = 0, seed: int = 0) -> tuple[TrainingData, list[Case]]:
    table = data.interactions
    users = np.asarray(table.columns["USER_ID"]).astype(str)
    items = np.asarray(table.columns["ITEM_ID"]).astype(str)
    stamps = np.asarray(table.columns["TIMESTAMP"], dtype=np.float64)
    values = None if field is None else np.asarray(table.columns[field], dtype=object)
    _, codes = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(len(users)), stamps, codes))
    last = np.r_[codes[order][1:] != codes[order][:-1], True]
    counts = np.bincount(codes)
    is_test = np.zeros(len(users), dtype=bool)
    is_test[order[last & (counts[codes[order]] >= 2)]] = True
    train = TrainingData(Table({k: np.asarray(v)[~is_test] for k, v in table.columns.items()},
                               dict(table.kinds)), data.items, data.users)
    cases, start = [], 0
    for end in np.flatnonzero(last) + 1:
        events = order[start:end]
        start = end
        if len(events) < 2:
            continue
        context = [{} if values is None else {field: values[e]} for e in events]
        cases.append(Case(users[events[0]], items[events[:-1]].tolist(), context[:-1],
                          items[events[-1]], context[-1]))
    if max_users and len(cases) > max_users:
        rng = np.random.default_rng(seed)
        cases = [cases[i] for i in sorted(rng.choice(len(cases), max_users, replace=False))]
    return train, cases


def ranked_lists(model, cases: list[Case], contexts: list[dict | None] | None = None,
                 with_history_context: bool = True) -> list[list[str]]:
    """Each case's top 25, as serving asks (no exploration, history excluded); `contexts`:
    the request context per case (None: no context)."""
    out = []
    for position, case in enumerate(cases):
        extra = {}
        if model.context_fields:
            extra = {"context": None if contexts is None else contexts[position],
                     "history_context": case.history_context if with_history_context
                     else None}
        out.append([i for i, _ in model.recommend(case.user_id, case.history, LIST_LENGTH,
                                                  exploration_weight=0.0, **extra)])
    return out


def metrics(model, cases: list[Case], ranked: list[list[str]]) -> dict[str, float]:
    return benchmark_metrics(ranked, [{c.target} for c in cases], model.item_ids)


def machine_load() -> dict:
    """The 1-minute load average and this process's thread settings, for the report."""
    return {"load_average_1m": os.getloadavg()[0], "time": time.strftime("%H:%M:%S"),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def arguments(doc: str, output: str, argv=None, extra=None) -> argparse.Namespace:
    """The benchmarks' shared options (and `extra(parser)`'s); torch set to one thread."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if extra is not None:
        extra(parser)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--max-users", type=int, default=0, help="0: every test user")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=output)
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    return args
