"""Contextual metadata (interactions' DEVICE etc. in training, the request's context at
serving) and solutionConfig.optimizationObjective, on tiny synthetic data."""
import numpy as np
import pytest

from chalicelib.models.data import CATEGORICAL, ID, NUMERICAL, Table, TrainingData
from chalicelib.training.evaluation import evaluate
from chalicelib.models.objective import (OBJECTIVE_ATTRIBUTE, OBJECTIVE_SENSITIVITY,
                                           attribute_percentiles, average_rewards_at_k,
                                           objective_hyperparameters)
from chalicelib.models import get_recipe, load_model, save_model
from chalicelib.models.user_personalization.context import fit_context_spec
from tests.training.test_user_personalization import fast_environment  # noqa: F401 (fixture)

NOW = 1_700_000_000.0
V = 40   # items 0-19 are genre A (watched on mobile), 20-39 genre B (watched on tv)
FAST = {"hidden_dimension": "32", "epochs": "15", "learning_rate": "0.01", "batch_size": "32"}
UP = "arn:aws:personalize:::recipe/aws-user-personalization"


def device_data(num_users=120, seed=0) -> TrainingData:
    """The device decides the genre of each event; the history says nothing about it."""
    rng = np.random.default_rng(seed)
    users, items, stamps, devices = [], [], [], []
    for user in range(num_users):
        for step in range(12):
            device = "mobile" if rng.random() < 0.5 else "tv"
            low = 0 if device == "mobile" else V // 2
            users.append(f"u{user}")
            items.append(f"i{int(rng.integers(low, low + V // 2))}")
            stamps.append(NOW + user * 100 + step)
            devices.append(device)
    data = TrainingData.from_interactions(users, items, stamps, DEVICE=np.array(devices,
                                                                                 dtype=object))
    data.interactions.kinds["DEVICE"] = CATEGORICAL
    return data


@pytest.fixture(scope="module")
def context_model():
    return get_recipe(UP).train(device_data(), FAST, seed=1)


def share_of_genre_a(model, **kwargs) -> float:
    top = [i for i, _ in model.recommend("u0", ["i3", "i25", "i7"], 10, exploration_weight=0,
                                         **kwargs)]
    return sum(int(i[1:]) < V // 2 for i in top) / len(top)


def test_context_fields_are_the_interactions_categorical_columns():
    spec = fit_context_spec(device_data(num_users=5).interactions)
    assert spec.fields == ["DEVICE"] and spec.vocabularies == [["mobile", "tv"]]
    assert spec.encode({"device": "TV "}) == [2]        # any case, keys and values
    assert spec.encode({"DEVICE": "fridge"}) == [0] == spec.encode(None)


def test_the_request_context_moves_recommendations_toward_its_genre(context_model):
    assert context_model.context_fields == ("DEVICE",)
    mobile = share_of_genre_a(context_model, context={"DEVICE": "mobile"})
    tv = share_of_genre_a(context_model, context={"DEVICE": "tv"})
    assert mobile >= 0.8 and tv <= 0.2, (mobile, tv)


def test_an_unknown_or_missing_context_is_the_model_without_context(context_model):
    history = ["i3", "i25", "i7"]
    plain = context_model.recommend("u0", history, 10, exploration_weight=0)
    assert context_model.recommend("u0", history, 10, exploration_weight=0,
                                   context={"DEVICE": "fridge"}) == plain
    assert context_model.recommend("u0", history, 10, exploration_weight=0,
                                   context={"OTHER": "x"}, history_context=[None] * 3) == plain


def test_history_contexts_and_ranking_use_the_context(context_model):
    history = ["i3", "i25", "i7"]
    with_past = context_model.recommend(
        "u0", history, 10, exploration_weight=0, context={"DEVICE": "tv"},
        history_context=[{"DEVICE": "mobile"}, {"DEVICE": "tv"}, {"DEVICE": "mobile"}])
    assert sum(int(i[1:]) >= V // 2 for i, _ in with_past) >= 8
    ranked = context_model.rank("u0", history, ["i1", "i30"], context={"DEVICE": "tv"})
    assert ranked[0][0] == "i30"
    ranked = context_model.rank("u0", history, ["i1", "i30"], context={"DEVICE": "mobile"})
    assert ranked[0][0] == "i1"


def test_a_context_model_saves_and_loads(context_model, tmp_path):
    save_model(context_model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.context_fields == ("DEVICE",)
    kwargs = {"exploration_weight": 0, "context": {"DEVICE": "tv"}}
    assert loaded.recommend("u0", ["i3"], 5, **kwargs) == \
        context_model.recommend("u0", ["i3"], 5, **kwargs)


def test_update_keeps_the_context(context_model):
    updated = get_recipe(UP).update(context_model, device_data(num_users=20, seed=5))
    assert updated.context_fields == ("DEVICE",)
    assert share_of_genre_a(updated, context={"DEVICE": "tv"}) <= 0.2


# -- optimizationObjective --------------------------------------------------------------------

def priced_data() -> TrainingData:
    """Users prefer a band of the catalogue; the price rises with the item number."""
    rng = np.random.default_rng(2)
    users, items, stamps = [], [], []
    for user in range(100):
        band = user % 2
        for step in range(12):
            users.append(f"u{user}")
            items.append(f"i{int(rng.integers(band * V // 2, (band + 1) * V // 2))}")
            stamps.append(NOW + user * 100 + step)
    data = TrainingData.from_interactions(users, items, stamps)
    data.items = Table({"ITEM_ID": np.array([f"i{n}" for n in range(V)], dtype=object),
                        "PRICE": np.arange(V, dtype=np.float64) * 1.5 + 1},
                       {"ITEM_ID": ID, "PRICE": NUMERICAL})
    return data


def objective(sensitivity: str) -> dict:
    return objective_hyperparameters({"optimizationObjective": {
        "itemAttribute": "price", "objectiveSensitivity": sensitivity}})


def test_recommendations_move_toward_the_attribute_as_sensitivity_rises():
    data = priced_data()
    prices = dict(zip(data.items.columns["ITEM_ID"], data.items.columns["PRICE"]))
    means, first = [], {}
    for level in ("OFF", "LOW", "MEDIUM", "HIGH"):
        model = get_recipe(UP).train(data, {**FAST, "epochs": "5", **objective(level)}, seed=0)
        lists = [[i for i, _ in model.recommend(f"u{u}", [f"i{u % 2 * 20 + 3}"], 10,
                                                exploration_weight=0)] for u in range(4)]
        means.append(np.mean([prices[i] for top in lists for i in top]))
        first[level] = lists[0]
    assert means == sorted(means) and means[-1] > means[0] + 5, means
    # LOW keeps most of the relevant list: the user's own band still leads
    assert sum(int(i[1:]) < 20 for i in first["LOW"]) >= 7


def test_the_objective_only_changes_serving():
    """Training never sees the objective: a model trained with it serves exactly what the
    model trained without it serves once given the objective (bench/objective_optimisation
    relies on this to train once for every sensitivity)."""
    from chalicelib.models.objective import parse_objective
    data = priced_data()
    params = {**FAST, "epochs": "2"}
    trained = get_recipe(UP).train(data, {**params, **objective("MEDIUM")}, seed=0)
    derived = get_recipe(UP).train(data, params, seed=0).with_objective(
        parse_objective(objective("MEDIUM")), data.items)
    ask = {"exploration_weight": 0}
    assert trained.recommend("u1", ["i30"], 10, **ask) == derived.recommend("u1", ["i30"], 10,
                                                                            **ask)


def test_objective_survives_save_and_load_and_ranks(tmp_path):
    model = get_recipe("aws-personalized-ranking").train(
        priced_data(), {**FAST, "epochs": "3", **objective("HIGH")}, seed=0)
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.objective.item_attribute == "PRICE"
    ranked = loaded.rank("u0", ["i3"], ["i2", "i39"])
    assert ranked[0][0] == "i39"
    assert [i for i, _ in ranked] == [i for i, _ in model.rank("u0", ["i3"], ["i2", "i39"])]


def test_the_retrieval_path_of_large_catalogues_applies_the_objective_too(monkeypatch):
    from chalicelib.models.user_personalization import scoring
    model = get_recipe(UP).train(priced_data(), {**FAST, "epochs": "3", **objective("HIGH")},
                                 seed=0)
    exact = model.recommend("u0", ["i3"], 10, exploration_weight=0)
    monkeypatch.setattr(scoring, "RETRIEVAL_FROM", 0)
    monkeypatch.setattr(scoring, "RETRIEVAL_BUDGET", V)   # every item retrieved: exact sums
    model.scorer.index()
    retrieved = model.recommend("u0", ["i3"], 10, exploration_weight=0)
    assert [i for i, _ in retrieved] == [i for i, _ in exact]
    assert [s for _, s in retrieved] == pytest.approx([s for _, s in exact], rel=1e-4)


def test_average_rewards_at_k_follows_aws_definition():
    rewards = {"a": 10.0, "b": 30.0, "c": 60.0}
    # user 1: a and c in the top k of their interactions (a, b, c) -> 70 / 100
    # user 2: nothing recommended they went on to buy -> 0; user 3 earns nothing: left out
    value = average_rewards_at_k([["a", "c", "x"], ["x"], ["a"]],
                                 [["a", "b", "c"], ["b"], ["zero"]], rewards, k=25)
    assert value == pytest.approx(0.35)
    assert attribute_percentiles(np.array([5.0, np.nan, 1.0, 3.0])).tolist() == \
        [1.0, 0.0, 0.0, 0.5]


def test_evaluate_reports_average_rewards_only_with_an_objective():
    data = priced_data()
    recipe = get_recipe(UP)
    plain = evaluate(recipe, data, {**FAST, "epochs": "2"})
    assert "average_rewards_at_k" not in plain
    metrics = evaluate(recipe, data, {**FAST, "epochs": "2", **objective("MEDIUM")})
    assert 0 < metrics["average_rewards_at_k"] <= 1
    assert {OBJECTIVE_ATTRIBUTE, OBJECTIVE_SENSITIVITY} == set(objective("LOW"))
