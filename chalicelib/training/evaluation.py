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

Benchmarks also use recall_at_K (relevant items in the top K over all relevant items).

The training task reports them as AWS's developer guide describes ("Evaluating a solution
version with metrics"), from the one training that also gives the version its model:
- every recipe type but USER_SEGMENTATION: 90% of the users (all their interactions) are the
  training set and 10% the test users (`user_split`); the solution version is trained on the
  training set; each test user's oldest 90% of interactions is given as input and the
  recommendations are scored against their newest 10%. The test users are still served
  (serving reads any user's history at request time), and none of their interactions, old
  or new, is in the training set;
- USER_SEGMENTATION: each user's oldest 80% of interactions trains, the newest 20% is scored
  (`temporal_split`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from chalicelib import task_log
from chalicelib.models.data import Table, TrainingData
from chalicelib.models.objective import (attribute_values, average_rewards_at_k,
                                           parse_objective)
from chalicelib.models.base import Log, Model, _quiet

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
TEST_USER_FRACTION = 0.1       # AWS: 10% of the users are test users ...
TEST_HOLDOUT_FRACTION = 0.1    # ... scored on their newest 10% of interactions
SEGMENTATION_HOLDOUT_FRACTION = 0.2   # USER_SEGMENTATION: each user's newest 20%


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


def _user_runs(table: Table):
    """Events grouped per user in time order (ties keep the input order): the event order,
    each user's start in it and their event counts."""
    users = np.asarray(table.columns["USER_ID"], dtype=object).astype(str)
    stamps = np.asarray(table.columns["TIMESTAMP"], dtype=np.float64)
    _, codes = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(len(users)), stamps, codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1] \
        if len(order) else np.zeros(0, dtype=np.int64)
    lengths = np.diff(np.r_[starts, len(order)]).astype(np.int64)
    return users, order, starts, lengths


def _held_counts(lengths: np.ndarray, fraction: float) -> np.ndarray:
    """The newest `fraction` of each user's events (at least one, never all of them)."""
    held = np.maximum(1, np.round(lengths * fraction)).astype(np.int64)
    return np.where(lengths >= 2, np.minimum(held, lengths - 1), 0)


def _cases(table: Table, users, order, starts, lengths, held) -> list[TestCase]:
    items = np.asarray(table.columns["ITEM_ID"], dtype=object).astype(str)
    cases = []
    for start, length, count in zip(starts, lengths, held):
        if count == 0:
            continue
        events = order[start:start + length]
        cases.append(TestCase(users[events[0]], items[events[:length - count]].tolist(),
                              items[events[length - count:]].tolist()))
    return cases


def temporal_split(data: TrainingData, holdout_fraction: float = 0.1,
                   leave_one_out: bool = False, min_events: int = 2) -> Split:
    """Hold out each user's latest events: the last one (leave_one_out) or the latest
    `holdout_fraction` of them (at least one). Users with fewer than `min_events` events
    stay wholly in training. Ties in time keep the input order."""
    table = data.interactions
    users, order, starts, lengths = _user_runs(table)
    held = np.ones_like(lengths) if leave_one_out else _held_counts(lengths, holdout_fraction)
    held = np.where(lengths >= max(min_events, 2), np.minimum(held, lengths - 1), 0)
    position = np.arange(len(order)) - np.repeat(starts, lengths)
    is_test = np.zeros(len(order), dtype=bool)
    is_test[order] = position >= np.repeat(lengths - held, lengths)
    return Split(TrainingData(_subset(table, ~is_test), data.items, data.users),
                 _cases(table, users, order, starts, lengths, held))


def user_split(data: TrainingData, test_fraction: float = TEST_USER_FRACTION,
               holdout_fraction: float = TEST_HOLDOUT_FRACTION, seed: int = 0) -> Split:
    """AWS's split: a seeded random `test_fraction` of the users are test users and leave
    the training set with all their interactions; each one's oldest events are the input
    and the newest `holdout_fraction` (at least one) is scored. Only users with two or more
    events can be scored, so only they are drawn."""
    table = data.interactions
    users, order, starts, lengths = _user_runs(table)
    eligible = np.flatnonzero(lengths >= 2)
    count = min(len(eligible), int(round(len(lengths) * test_fraction)))
    chosen = np.zeros(len(lengths), dtype=bool)
    chosen[np.random.default_rng(seed).choice(eligible, count, replace=False)] = True
    is_test = np.zeros(len(order), dtype=bool)
    is_test[order] = np.repeat(chosen, lengths)
    held = np.where(chosen, _held_counts(lengths, holdout_fraction), 0)
    return Split(TrainingData(_subset(table, ~is_test), data.items, data.users),
                 _cases(table, users, order, starts, lengths, held))


def metrics_split(recipe_type: str, data: TrainingData, seed: int = 0) -> Split:
    """The split the training task trains the version on and scores, per recipe type."""
    if recipe_type == "USER_SEGMENTATION":
        return temporal_split(data, SEGMENTATION_HOLDOUT_FRACTION)
    return user_split(data, seed=seed)


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


@dataclass
class Evaluation:
    """One training on a split's training set: the model and its GetSolutionMetrics."""
    model: Model
    metrics: dict[str, float]


def score(model, recipe_type: str, cases: list[TestCase], seed: int = 0,
          max_users: int = 1000, ranking_negatives: int = 100,
          rewards: dict[str, float] | None = None) -> dict[str, float]:
    """GetSolutionMetrics of a trained model on test cases. At most `max_users` of them (a
    seeded sample) keep the cost bounded. Only items new to the user count as relevant
    (recommendations leave the user's history out). With `rewards` (item -> the
    optimisation objective's attribute), average_rewards_at_k as well."""
    zeros = {name: 0.0 for name in PERSONALIZE_METRICS}
    rng = np.random.default_rng(seed)
    if len(cases) > max_users:
        cases = [cases[i] for i in sorted(rng.choice(len(cases), max_users, replace=False))]
    ranked_lists, relevant_sets = [], []
    for case in cases:
        seen = set(case.history)
        relevant = [i for i in dict.fromkeys(case.held_out) if i not in seen]
        if not relevant:
            continue
        ranked = ranked_for_case(model, recipe_type, case, relevant, rng, ranking_negatives)
        if ranked is None:
            continue
        ranked_lists.append(ranked)
        relevant_sets.append(set(relevant))
    if not ranked_lists:
        return zeros
    metrics = personalize_metrics(ranked_lists, relevant_sets, model.item_ids)
    if rewards is not None:   # GetSolutionMetrics reports it for an objective, as AWS does
        metrics["average_rewards_at_k"] = average_rewards_at_k(
            ranked_lists, [list(r) for r in relevant_sets], rewards)
    return metrics


def objective_rewards(data: TrainingData, hyperparameters: dict[str, str],
                      item_ids: list[str]) -> dict[str, float] | None:
    """item -> the optimisation objective's attribute value (None without an objective)."""
    objective = parse_objective(hyperparameters)
    if objective is None:
        return None
    values = attribute_values(data.items, objective.item_attribute, item_ids)
    return {item: float(v) for item, v in zip(item_ids, values) if v == v}


def train_and_score(recipe, split: Split, hyperparameters: dict[str, str], seed: int = 0,
                    log: Log = _quiet, **scoring) -> Evaluation:
    """Train on the split's training set (the model a solution version keeps) and score it
    on the split's test cases."""
    task_log.phase("training", recipe=recipe.name)
    model = recipe.train(split.train, hyperparameters, seed=seed, log=log)
    task_log.phase("scoring", test_users=len(split.cases))
    rewards = objective_rewards(split.train, hyperparameters, model.item_ids)
    return Evaluation(model, score(model, recipe.recipe_type, split.cases, seed,
                                   rewards=rewards, **scoring))


def evaluate(recipe, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
             max_users: int = 1000, ranking_negatives: int = 100) -> dict[str, float]:
    """The GetSolutionMetrics a solution version of `recipe` on `data` reports."""
    split = metrics_split(recipe.recipe_type, data, seed)
    return train_and_score(recipe, split, hyperparameters, seed, max_users=max_users,
                           ranking_negatives=ranking_negatives).metrics
