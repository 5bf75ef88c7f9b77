"""Metric definitions against hand-computed values; AWS's user split and the temporal
split; one training gives the model and its metrics."""
import math

import numpy as np
import pytest

from chalicelib.training.data import TrainingData
from chalicelib.training.evaluation import (PERSONALIZE_METRICS, benchmark_metrics, coverage,
                                            evaluate, metrics_split, ndcg_at_k,
                                            personalize_metrics, precision_at_k, recall_at_k,
                                            reciprocal_rank_at_k, temporal_split,
                                            train_and_score, user_split)
from chalicelib.training.recipes import get_recipe

RANKED = ["a", "b", "c", "d", "e"]


def test_precision_recall_by_hand():
    assert precision_at_k(RANKED, {"b", "d", "z"}, 5) == pytest.approx(2 / 5)
    assert precision_at_k(RANKED, {"b"}, 10) == pytest.approx(1 / 10)  # divided by K
    assert recall_at_k(RANKED, {"b", "d", "z"}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, {"b", "d", "z"}, 1) == 0.0


def test_ndcg_by_hand():
    # hits at positions 2 and 4: (1/log2(3) + 1/log2(5)) / (1/log2(2) + 1/log2(3))
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"b", "d"}, 5) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, {"a"}, 5) == 1.0
    # three relevant, K = 2: the ideal has only two slots
    assert ndcg_at_k(RANKED, {"a", "b", "z"}, 2) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {"e"}, 4) == 0.0


def test_reciprocal_rank_and_coverage_by_hand():
    assert reciprocal_rank_at_k(RANKED, {"c", "e"}, 25) == pytest.approx(1 / 3)
    assert reciprocal_rank_at_k(RANKED, {"e"}, 4) == 0.0
    assert coverage([["a", "b"], ["b", "c"]], 10) == pytest.approx(0.3)
    assert coverage([["a", "x"]], ["a", "b"]) == pytest.approx(0.5)  # x is unknown


def test_averaged_metric_dictionaries():
    metrics = personalize_metrics([RANKED, ["z"]], [{"a"}, {"q"}], 20)
    assert set(metrics) == set(PERSONALIZE_METRICS)
    assert metrics["mean_reciprocal_rank_at_25"] == pytest.approx(0.5)
    assert metrics["precision_at_5"] == pytest.approx((1 / 5 + 0) / 2)
    assert metrics["coverage"] == pytest.approx(6 / 20)
    bench = benchmark_metrics([RANKED], [{"c"}], 5)
    assert bench["ndcg_at_10"] == pytest.approx(1 / math.log2(4))
    assert bench["recall_at_20"] == 1.0 and bench["mrr_at_25"] == pytest.approx(1 / 3)


def small_data():
    users = ["u1"] * 10 + ["u2"] * 4 + ["u3"]
    items = [f"i{k}" for k in range(10)] + ["i3", "i1", "i2", "i0"] + ["i5"]
    stamps = list(range(10, 0, -1)) + [1, 2, 3, 4] + [0]  # u1's events given newest first
    return TrainingData.from_interactions(users, items, stamps,
                                          event_type=["click"] * 15)


def test_temporal_split_holds_out_each_users_latest_events():
    split = temporal_split(small_data(), holdout_fraction=0.2)
    cases = {c.user_id: c for c in split.cases}
    assert set(cases) == {"u1", "u2"}  # u3 has a single event: training only
    assert cases["u1"].held_out == ["i1", "i0"]       # the two latest of ten
    assert cases["u1"].history == [f"i{k}" for k in range(9, 1, -1)]
    assert cases["u2"].held_out == ["i0"] and cases["u2"].history == ["i3", "i1", "i2"]
    train = split.train.interactions
    assert len(train) == 15 - 3 and "EVENT_TYPE" in train.columns
    loo = temporal_split(small_data(), leave_one_out=True)
    assert [len(c.held_out) for c in loo.cases] == [1, 1]


def test_evaluate_reports_personalize_metrics_for_each_recipe_type():
    rng = np.random.default_rng(0)
    users, items, stamps = [], [], []
    for user in range(40):  # two taste groups
        group = "a" if user % 2 else "b"
        for step, item in enumerate(rng.choice(8, 6, replace=False)):
            users.append(f"u{user}")
            items.append(f"{group}{item}")
            stamps.append(user * 10 + step)
    data = TrainingData.from_interactions(users, items, stamps)
    for name, params in [("aws-popularity-count", {}), ("aws-sims", {}),
                         ("aws-personalized-ranking", {"epochs": "2", "hidden_dimension": "8"})]:
        metrics = evaluate(get_recipe(name), data, params, seed=0, ranking_negatives=5)
        assert set(metrics) == set(PERSONALIZE_METRICS)
        assert all(0.0 <= v <= 1.0 for v in metrics.values())
    sims = evaluate(get_recipe("aws-sims"), data, {})
    popular = evaluate(get_recipe("aws-popularity-count"), data, {})
    assert sims["precision_at_5"] > popular["precision_at_5"]  # the group signal helps
    tiny = TrainingData.from_interactions(["u"], ["i"], [0.0])
    assert evaluate(get_recipe("aws-popularity-count"), tiny, {}) == {
        m: 0.0 for m in PERSONALIZE_METRICS}


def many_users(users=50, events=20):
    """Each user's events in time order, item ids naming their user and step."""
    rows = [(f"u{u}", f"u{u}-i{k}", 1000.0 * u + k) for u in range(users) for k in range(events)]
    rows.append(("single", "lonely", 5.0))  # one event: never a test user
    return TrainingData.from_interactions(*zip(*rows))


def test_user_split_holds_out_a_tenth_of_the_users_entirely():
    """AWS: 90% of the users train, 10% are test users; a test user's oldest 90% is the
    input, the newest 10% is scored, and none of their events is in the training set."""
    split = user_split(many_users())
    tested = {case.user_id for case in split.cases}
    assert len(tested) == 5 and "single" not in tested  # round(51 users * 0.1)
    trained_users = set(split.train.interactions.columns["USER_ID"])
    assert not tested & trained_users
    assert trained_users | tested == {f"u{u}" for u in range(50)} | {"single"}
    for case in split.cases:
        assert case.history == [f"{case.user_id}-i{k}" for k in range(18)]
        assert case.held_out == [f"{case.user_id}-i{k}" for k in (18, 19)]
    assert len(split.train.interactions) == 50 * 20 + 1 - 5 * 20
    again = user_split(many_users())
    assert [c.user_id for c in again.cases] == [c.user_id for c in split.cases]  # seeded


def test_metrics_split_per_recipe_type():
    segmentation = metrics_split("USER_SEGMENTATION", many_users())
    assert len(segmentation.cases) == 50  # every user, on their newest 20%
    assert all(len(c.held_out) == 4 and len(c.history) == 16 for c in segmentation.cases)
    assert len(segmentation.train.interactions) == 50 * 16 + 1
    personalization = metrics_split("USER_PERSONALIZATION", many_users())
    assert len(personalization.cases) == 5


def test_train_and_score_trains_once_on_the_training_users():
    """The model the version keeps is the one scored, and it never saw a test user's
    events: an item only test users touched is unknown to a popularity model."""
    data = many_users()
    split = user_split(data)
    calls = []
    recipe = get_recipe("aws-popularity-count")
    train = recipe.train

    class Counting:
        name, recipe_type = recipe.name, recipe.recipe_type

        def train(self, data, hyperparameters, seed=0, log=None):
            calls.append(len(data.interactions))
            return train(data, hyperparameters, seed)
    evaluation = train_and_score(Counting(), split, {})
    assert calls == [len(split.train.interactions)]
    test_items = {i for c in split.cases for i in c.history + c.held_out}
    assert not test_items & set(evaluation.model.item_ids)
    assert set(evaluation.metrics) == set(PERSONALIZE_METRICS)
