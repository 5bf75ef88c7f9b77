"""Popularity, trending, sims/similar-items and personalized-ranking on small synthetic data."""
import os

import numpy as np
import pytest

os.environ.setdefault("PERSONALIZE_TEXT_ENCODER", "hashed")

from chalicelib.models.data import CATEGORICAL, ID, Table, TrainingData  # noqa: E402
from chalicelib.models import get_recipe, load_model, save_model  # noqa: E402

NOW = 1_700_000_000.0
HOUR = 3600.0
DAY = 86400.0


def popularity_data():
    """Item iK is interacted K times (one user each); 'view' events only for i1."""
    users, items, types = [], [], []
    for k in range(1, 6):
        for n in range(k):
            users.append(f"u{k}-{n}")
            items.append(f"i{k}")
            types.append("click")
    for n in range(10):
        users.append(f"v{n}")
        items.append("i1")
        types.append("view")
    stamps = NOW + np.arange(len(users))
    return TrainingData.from_interactions(users, items, stamps, event_type=types)


def test_popularity_orders_by_count_and_excludes_history():
    model = get_recipe("aws-popularity-count").train(popularity_data(), {})
    top = model.recommend("x", [], 6)
    assert [i for i, _ in top] == ["i1", "i5", "i4", "i3", "i2"]
    assert top[0][1] == pytest.approx(1.0)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert "i5" not in [i for i, _ in model.recommend("x", ["i5"], 3)]


def test_popularity_event_type_and_mask():
    model = get_recipe("aws-popularity-count").train(popularity_data(), {"event_type": "click"})
    assert [i for i, _ in model.recommend("x", [], 2)] == ["i5", "i4"]
    mask = np.array([item in ("i2", "i3") for item in model.item_ids])
    assert [i for i, _ in model.recommend("x", [], 5, mask)] == ["i3", "i2"]


def trending_data():
    """'steady' gets 20 events an hour throughout; 'riser' 2 then 12; 'faller' 10 then 1."""
    users, items, stamps = [], [], []
    plan = {"steady": (20, 20), "riser": (2, 12), "faller": (10, 1), "old": (0, 0)}
    for item, (earlier, recent) in plan.items():
        for count, window_start in ((earlier, NOW - 2 * HOUR), (recent, NOW - HOUR)):
            for n in range(count):
                users.append(f"{item}-{window_start}-{n}")
                items.append(item)
                stamps.append(window_start + 1 + n)
    for n in range(30):  # 'old' was popular long ago
        users.append(f"old-{n}")
        items.append("old")
        stamps.append(NOW - 30 * DAY + n)
    return TrainingData.from_interactions(users, items, stamps)


def test_trending_picks_the_riser():
    model = get_recipe("aws-trending-now").train(trending_data(),
                                                 {"trend_discovery_frequency": "1 hour"})
    ranked = [i for i, _ in model.recommend(None, [], 4)]
    assert ranked[0] == "riser"
    assert ranked.index("steady") < ranked.index("faller")
    with pytest.raises(ValueError):
        get_recipe("aws-trending-now").train(trending_data(),
                                             {"trend_discovery_frequency": "fortnightly"})


def cooccurrence_data(seed=0):
    """Users buy within one of two groups: a* items go together, b* items go together."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for user in range(60):
        group = "a" if user % 2 == 0 else "b"
        for item in rng.choice(5, size=3, replace=False):
            users.append(f"u{user}")
            items.append(f"{group}{item}")
    return TrainingData.from_interactions(users, items, NOW + np.arange(len(users)))


@pytest.mark.parametrize("name", ["aws-sims", "aws-similar-items"])
def test_related_items_finds_cooccurring_items(name):
    model = get_recipe(name).train(cooccurrence_data(), {})
    related = model.related_items("a0", 4)
    assert {i for i, _ in related} == {"a1", "a2", "a3", "a4"}
    assert all(0 < s <= 1 for _, s in related)
    mask = np.array([not item.startswith("a") or item == "a3" for item in model.item_ids])
    masked = [i for i, _ in model.related_items("a0", 3, mask)]
    assert masked[0] == "a3" and len(masked) == 3  # popular b* items fill the rest
    assert [i for i, _ in model.related_items("unknown", 2)]  # popular fallback


def test_similar_items_uses_metadata_for_cold_items():
    data = cooccurrence_data()
    genres = {f"a{k}": "action" for k in range(5)} | {f"b{k}": "drama" for k in range(5)}
    genres |= {"new-action": "action", "new-drama": "drama"}
    data.items = Table({"ITEM_ID": np.array(list(genres), dtype=object),
                        "GENRE": np.array(list(genres.values()), dtype=object)},
                       {"ITEM_ID": ID, "GENRE": CATEGORICAL})
    model = get_recipe("aws-similar-items").train(data, {})
    cold = [i for i, _ in model.related_items("new-action", 5)]
    assert set(cold) <= {f"a{k}" for k in range(5)}
    assert "new-action" in [i for i, _ in model.related_items("a0", 10)]


def sequence_data(num_items=12, num_users=80, seed=0):
    """Users walk i -> i+1 (mod num_items)."""
    rng = np.random.default_rng(seed)
    users, items, stamps = [], [], []
    for user in range(num_users):
        current = int(rng.integers(num_items))
        for step in range(10):
            users.append(f"u{user}")
            items.append(f"i{current}")
            stamps.append(NOW + user * 100 + step)
            current = (current + 1) % num_items
    return TrainingData.from_interactions(users, items, stamps)


def test_personalized_ranking_is_a_permutation_following_the_pattern():
    recipe = get_recipe("aws-personalized-ranking")
    assert recipe.recipe_type == "PERSONALIZED_RANKING"
    model = recipe.train(sequence_data(), {"hidden_dimension": "16", "epochs": "15",
                                           "learning_rate": "0.02", "batch_size": "16"})
    candidates = ["i2", "i9", "i5", "i7", "unknown"]
    ranked = model.rank("u1", ["i2", "i3", "i4"], candidates)
    assert sorted(i for i, _ in ranked) == sorted(candidates)
    assert ranked[0][0] == "i5" and ranked[-1][0] == "unknown"
    assert sum(s for _, s in ranked) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name,data,check", [
    ("aws-popularity-count", popularity_data, lambda m: m.recommend("x", [], 3)),
    ("aws-trending-now", trending_data, lambda m: m.recommend("x", [], 3)),
    ("aws-sims", cooccurrence_data, lambda m: m.related_items("a0", 3)),
    ("aws-similar-items", cooccurrence_data, lambda m: m.related_items("b1", 3)),
    ("aws-personalized-ranking-v2", sequence_data,
     lambda m: m.rank("u", ["i1", "i2"], ["i3", "i4", "i8"])),
])
def test_save_load_round_trip(tmp_path, name, data, check):
    recipe = get_recipe(name)
    params = {"epochs": "1", "hidden_dimension": "8"} if "ranking" in name else {}
    model = recipe.train(data(), params)
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert type(loaded) is type(model) and loaded.recipe_name == name
    assert loaded.item_ids == model.item_ids
    before, after = check(model), check(loaded)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before], abs=1e-6)


def test_update_folds_in_new_data():
    recipe = get_recipe("aws-popularity-count")
    model = recipe.train(popularity_data(), {"event_type": "click"})
    data = popularity_data()
    more = TrainingData.from_interactions(
        list(data.interactions.columns["USER_ID"]) + [f"n{k}" for k in range(9)],
        list(data.interactions.columns["ITEM_ID"]) + ["fresh"] * 9,
        list(data.interactions.columns["TIMESTAMP"]) + [NOW + 1e4] * 9,
        event_type=list(data.interactions.columns["EVENT_TYPE"]) + ["click"] * 9)
    updated = recipe.update(model, more)
    assert updated.recommend("x", [], 1)[0][0] == "fresh"
    assert updated.event_type == "click"
