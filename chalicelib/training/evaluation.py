"""Offline metrics: the one place where they are defined.

GetSolutionMetrics names (Personalize's "Evaluating a solution version"), for one user's
recommendation list `ranked` against the items they really went on to interact with
(`relevant`), averaged over the test users:

- precision_at_K: relevant items among the top K, divided by K.
- normalized_discounted_cumulative_gain_at_K: each relevant item at 1-based position p in
  the top K gains 1 / log2(1 + p); the sum is divided by the best possible sum (all
  relevant items at the top), so 1 is a perfect list.
- mean_reciprocal_rank_at_25: 1 / position of the first relevant item within the top 25
  (0 when none is).
- coverage: distinct items recommended to the test users over all items the model knows
  (interactions plus Items dataset).
- average_rewards_at_k (only with an optimizationObjective): see
  chalicelib/training/objective.py.

Benchmarks also use recall_at_K (relevant items in the top K over all relevant items).

`evaluate` is what the training task reports: a temporal per-user split (each user's latest
events held out), a model trained on the rest, and each test user's earlier events given as
their history, exactly as serving would see them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from chalicelib.training.data import Table, TrainingData
from chalicelib.training.objective import (attribute_values, average_rewards_at_k,
                                           parse_objective)

PERSONALIZE_METRICS = (
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
)
LIST_LENGTH = 25  # the longest cut-off any reported metric needs


# --- per-list metrics ----------------------------------------------------------------------

def precision_at_k(ranked: list[str], relevant, k: int) -> float:
    relevant = set(relevant)
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at_k(ranked: list[str], relevant, k: int) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at_k(ranked: list[str], relevant, k: int) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    gain = sum(1.0 / math.log2(position + 1)
               for position, item in enumerate(ranked[:k], start=1) if item in relevant)
    ideal = sum(1.0 / math.log2(position + 1)
                for position in range(1, min(len(relevant), k) + 1))
    return gain / ideal


def reciprocal_rank_at_k(ranked: list[str], relevant, k: int) -> float:
    relevant = set(relevant)
    for position, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            return 1.0 / position
    return 0.0


def coverage(ranked_lists: list[list[str]], catalogue) -> float:
    """`catalogue`: the model's item ids (items outside it are not counted) or its size."""
    recommended = {item for ranked in ranked_lists for item in ranked}
    if not isinstance(catalogue, int):
        catalogue = set(catalogue)
        recommended &= catalogue
        catalogue = len(catalogue)
    return len(recommended) / catalogue if catalogue > 0 else 0.0


# --- averaged over users -------------------------------------------------------------------

def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0


def personalize_metrics(ranked_lists: list[list[str]], relevant_sets: list,
                        catalogue) -> dict[str, float]:
    """The GetSolutionMetrics dictionary for top-25 lists (`catalogue` as for coverage)."""
    pairs = list(zip(ranked_lists, relevant_sets))
    metrics = {"coverage": coverage([r[:LIST_LENGTH] for r in ranked_lists], catalogue),
               "mean_reciprocal_rank_at_25": _mean([reciprocal_rank_at_k(r, t, 25)
                                                    for r, t in pairs])}
    for k in (5, 10, 25):
        metrics[f"normalized_discounted_cumulative_gain_at_{k}"] = _mean(
            [ndcg_at_k(r, t, k) for r, t in pairs])
    for k in (5, 10, 25):
        metrics[f"precision_at_{k}"] = _mean([precision_at_k(r, t, k) for r, t in pairs])
    return metrics


def benchmark_metrics(ranked_lists: list[list[str]], relevant_sets: list,
                      catalogue) -> dict[str, float]:
    """NDCG@10, Recall@10/20, MRR@25 and coverage (of the top-10 lists), the usual
    sequential-recommendation report."""
    pairs = list(zip(ranked_lists, relevant_sets))
    return {
        "ndcg_at_10": _mean([ndcg_at_k(r, t, 10) for r, t in pairs]),
        "recall_at_10": _mean([recall_at_k(r, t, 10) for r, t in pairs]),
        "recall_at_20": _mean([recall_at_k(r, t, 20) for r, t in pairs]),
        "mrr_at_25": _mean([reciprocal_rank_at_k(r, t, 25) for r, t in pairs]),
        "coverage_at_10": coverage([r[:10] for r in ranked_lists], catalogue),
    }


# --- the split -----------------------------------------------------------------------------

@dataclass
class TestCase:
    user_id: str
    history: list[str]          # the user's training events, oldest first
    held_out: list[str]         # their later events, oldest first


@dataclass
class Split:
    train: TrainingData
    cases: list[TestCase] = field(default_factory=list)


def _subset(table: Table, keep: np.ndarray) -> Table:
    return Table({name: np.asarray(values)[keep] for name, values in table.columns.items()},
                 dict(table.kinds))


def temporal_split(data: TrainingData, holdout_fraction: float = 0.1,
                   leave_one_out: bool = False, min_events: int = 2) -> Split:
    """Hold out each user's latest events: the last one (leave_one_out) or the latest
    `holdout_fraction` of them (at least one). Users with fewer than `min_events` events
    stay wholly in training. Ties in time keep the input order."""
    table = data.interactions
    users = np.asarray(table.columns["USER_ID"], dtype=object).astype(str)
    items = np.asarray(table.columns["ITEM_ID"], dtype=object).astype(str)
    stamps = np.asarray(table.columns["TIMESTAMP"], dtype=np.float64)
    _, codes = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(len(users)), stamps, codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1] \
        if len(order) else np.zeros(0, dtype=np.int64)
    lengths = np.diff(np.r_[starts, len(order)])
    if leave_one_out:
        held = np.ones_like(lengths)
    else:
        held = np.maximum(1, np.round(lengths * holdout_fraction)).astype(np.int64)
    held = np.where(lengths >= max(min_events, 2), np.minimum(held, lengths - 1), 0)
    per_event_length = np.repeat(lengths, lengths)
    position = np.arange(len(order)) - np.repeat(starts, lengths)
    is_test = np.zeros(len(order), dtype=bool)
    is_test[order] = position >= per_event_length - np.repeat(held, lengths)
    split = Split(TrainingData(_subset(table, ~is_test), data.items, data.users))
    for start, length, count in zip(starts, lengths, held):
        if count == 0:
            continue
        events = order[start:start + length]
        split.cases.append(TestCase(users[events[0]], items[events[:length - count]].tolist(),
                                    items[events[length - count:]].tolist()))
    return split


# --- evaluate a recipe ---------------------------------------------------------------------

def _negatives(item_ids: list[str], exclude: set[str], count: int,
               rng: np.random.Generator) -> list[str]:
    picks = rng.choice(len(item_ids), size=min(len(item_ids), count + len(exclude)),
                       replace=False)
    return [item_ids[i] for i in picks if item_ids[i] not in exclude][:count]


def ranked_for_case(model, recipe_type: str, case: TestCase, relevant: list[str],
                    rng: np.random.Generator, ranking_negatives: int) -> list[str] | None:
    """What the model answers for a test user, as serving would ask it."""
    if recipe_type == "RELATED_ITEMS":
        if not case.history:
            return None
        return [i for i, _ in model.related_items(case.history[-1], LIST_LENGTH)]
    if recipe_type == "PERSONALIZED_RANKING":
        candidates = relevant + _negatives(model.item_ids, set(case.history) | set(relevant),
                                           ranking_negatives, rng)
        rng.shuffle(candidates)  # the input order must not leak the answer
        return [i for i, _ in model.rank(case.user_id, case.history, candidates)]
    return [i for i, _ in model.recommend(case.user_id, case.history, LIST_LENGTH,
                                          exploration_weight=0.0)]


def evaluate(recipe, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
             holdout_fraction: float = 0.1, leave_one_out: bool = False,
             max_users: int = 1000, ranking_negatives: int = 100) -> dict[str, float]:
    """Train on all but each user's latest events and score those: GetSolutionMetrics.
    At most `max_users` test users (a seeded sample) keep the cost bounded. Only items new
    to the user count as relevant (recommendations leave the user's history out)."""
    split = temporal_split(data, holdout_fraction, leave_one_out)
    zeros = {name: 0.0 for name in PERSONALIZE_METRICS}
    if not split.cases or len(split.train.interactions) == 0:
        return zeros
    rng = np.random.default_rng(seed)
    cases = split.cases
    if len(cases) > max_users:
        cases = [cases[i] for i in sorted(rng.choice(len(cases), max_users, replace=False))]
    model = recipe.train(split.train, hyperparameters, seed=seed)
    ranked_lists, relevant_sets = [], []
    for case in cases:
        seen = set(case.history)
        relevant = [i for i in dict.fromkeys(case.held_out) if i not in seen]
        if not relevant:
            continue
        ranked = ranked_for_case(model, recipe.recipe_type, case, relevant, rng,
                                 ranking_negatives)
        if ranked is None:
            continue
        ranked_lists.append(ranked)
        relevant_sets.append(set(relevant))
    if not ranked_lists:
        return zeros
    metrics = personalize_metrics(ranked_lists, relevant_sets, model.item_ids)
    objective = parse_objective(hyperparameters)
    if objective is not None:   # GetSolutionMetrics reports it for an objective, as AWS does
        values = attribute_values(data.items, objective.item_attribute, model.item_ids)
        rewards = {item: float(v) for item, v in zip(model.item_ids, values) if v == v}
        metrics["average_rewards_at_k"] = average_rewards_at_k(
            ranked_lists, [list(r) for r in relevant_sets], rewards)
    return metrics
