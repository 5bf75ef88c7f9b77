"""aws-user-personalization: training, serving, cold start, exploration, update, persistence.

Small synthetic data so that the whole file runs in seconds; the text encoder is the
hashed fallback here (the sentence encoder is exercised by bench/cold_start.py).
"""
import os

import numpy as np
import pytest
import torch

from chalicelib.models.data import (CATEGORICAL, ID, NUMERICAL, TEXTUAL, TIMESTAMP,
                                    Table, TrainingData)
from chalicelib.models.item_features import (ENCODER_ENV, HASH_BUCKETS, FeatureSpec,
                                             fit_feature_spec, item_feature_matrix,
                                             nearest_neighbours)
from chalicelib.models import get_recipe, load_model, save_model
from chalicelib.models.user_personalization import TrainingSettings

NOW = 1_700_000_000.0
DAY = 86400.0
V = 40
FAST = {"hidden_dimension": "32", "epochs": "25", "learning_rate": "0.01", "batch_size": "32"}


def sequential_data(num_users=160, seed=0):
    """Each user walks i -> i+1 (mod V) from a random start; 10% of steps are random."""
    rng = np.random.default_rng(seed)
    users, items, stamps = [], [], []
    for user in range(num_users):
        current = int(rng.integers(V))
        for step in range(int(rng.integers(8, 16))):
            users.append(f"u{user}")
            items.append(f"i{current}")
            stamps.append(NOW - 30 * DAY + user * 100 + step)
            current = (current + 1) % V if rng.random() > 0.1 else int(rng.integers(V))
    return TrainingData.from_interactions(users, items, stamps)


@pytest.fixture(scope="module", autouse=True)
def fast_environment():
    # tiny models: thread hand-offs cost more than they save, worse on a busy machine;
    # the hashed text encoder: no sentence-encoder load in unit tests
    threads, encoder = torch.get_num_threads(), os.environ.get(ENCODER_ENV)
    torch.set_num_threads(1)
    os.environ[ENCODER_ENV] = "hashed"
    yield
    torch.set_num_threads(threads)
    if encoder is None:
        os.environ.pop(ENCODER_ENV, None)
    else:
        os.environ[ENCODER_ENV] = encoder


@pytest.fixture(scope="module")
def recipe():
    return get_recipe("arn:aws:personalize:::recipe/aws-user-personalization")


@pytest.fixture(scope="module")
def model(recipe):
    return recipe.train(sequential_data(), FAST, seed=3)


def test_registered_under_both_names(recipe, model):
    assert recipe.name == "aws-user-personalization"
    assert recipe.recipe_type == "USER_PERSONALIZATION"
    assert get_recipe("aws-user-personalization-v2").name == "aws-user-personalization-v2"
    assert model.recipe_name == "aws-user-personalization"
    assert recipe.default_hyperparameters["hidden_dimension"] == "149"


def test_hyperparameters_parse_as_personalize_passes_them():
    from chalicelib.models.user_personalization import TrainingSettings
    settings = TrainingSettings.parse({"hidden_dimension": "64", "bptt": "8",
                                       "recency_mask": "false"})
    assert (settings.hidden_dimension, settings.bptt, settings.recency_mask) == (64, 8, False)
    assert TrainingSettings.parse({"apply_recency_bias": "false"}).recency_mask is False  # v2 name
    assert TrainingSettings.parse({}).max_percentile == 0.99


def test_next_item_hit_rate_beats_popularity(model):
    test = sequential_data(num_users=60, seed=99).interactions.columns
    users, items = test["USER_ID"], test["ITEM_ID"]
    histories = {}
    for user, item in zip(users, items):
        histories.setdefault(user, []).append(item)
    popular = [i for i, _ in model.recommend(None, [], 10, exploration_weight=0)]
    model_hits = popularity_hits = 0
    for history in histories.values():
        prefix, target = history[:-1], history[-1]
        top = [i for i, _ in model.recommend("x", prefix, 5, exploration_weight=0)]
        model_hits += target in top
        popularity_hits += target in [i for i in popular if i not in prefix][:5]
    assert model_hits >= 0.5 * len(histories), (model_hits, popularity_hits)
    assert model_hits > 3 * max(popularity_hits, 1)


def test_scores_are_probabilities_and_history_is_excluded(model):
    history = ["i3", "i4", "i5"]
    result = model.recommend("x", history, 10, exploration_weight=0)
    assert len(result) == 10 and not set(history) & {i for i, _ in result}
    assert all(0 <= s <= 1 for _, s in result)
    assert result[0][0] == "i6"
    # asking for the whole catalogue gives back history items last rather than too few
    everything = model.recommend("x", history, V, exploration_weight=0)
    assert len(everything) == V
    assert set(i for i, _ in everything[-3:]) == set(history)


def test_history_change_changes_recommendations(model):
    first = model.recommend("x", ["i10", "i11"], 3, exploration_weight=0)
    live = model.recommend("x", ["i10", "i11", "i30", "i31"], 3, exploration_weight=0)
    assert first[0][0] == "i12" and live[0][0] == "i32"


def test_mask_is_respected(model):
    mask = np.zeros(len(model.item_ids), dtype=bool)
    mask[[model.item_ids.index(f"i{k}") for k in (1, 2, 3)]] = True
    result = model.recommend("x", ["i20"], 10, mask=mask, exploration_weight=0)
    assert {i for i, _ in result} == {"i1", "i2", "i3"}


def test_rank_orders_given_items(model):
    ranked = model.rank("x", ["i7", "i8"], ["i30", "i9", "unknown", "i2"])
    assert ranked[0][0] == "i9" and ranked[-1] == ("unknown", 0.0)
    assert abs(sum(s for _, s in ranked) - 1.0) < 1e-5


def test_related_items(model):
    related = model.related_items("i5", 5)
    assert len(related) == 5 and "i5" not in [i for i, _ in related]


def test_training_is_deterministic_given_the_seed(recipe, model):
    again = recipe.train(sequential_data(), FAST, seed=3)
    history = ["i1", "i2"]
    assert again.recommend("x", history, 5, exploration_weight=0) == \
        model.recommend("x", history, 5, exploration_weight=0)
    for a, b in zip(again.network.parameters(), model.network.parameters()):
        assert torch.equal(a, b)


def test_save_load_round_trip(model, tmp_path):
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.item_ids == model.item_ids
    for history in ([], ["i1"], ["i5", "i6", "i7"]):
        assert loaded.recommend("x", history, 8, exploration_weight=0.3, now=NOW) == \
            model.recommend("x", history, 8, exploration_weight=0.3, now=NOW)
        assert loaded.rank("x", history, ["i1", "i9", "i20"]) == \
            model.rank("x", history, ["i1", "i9", "i20"])


def test_update_adds_items_and_leaves_the_gru_untouched(recipe, model):
    data = sequential_data()
    columns = data.interactions.columns
    extra = {"USER_ID": ["u1", "u2"], "ITEM_ID": ["brand-new", "i3"], "TIMESTAMP": [NOW, NOW]}
    data = TrainingData.from_interactions(
        np.r_[columns["USER_ID"], extra["USER_ID"]], np.r_[columns["ITEM_ID"], extra["ITEM_ID"]],
        np.r_[columns["TIMESTAMP"], extra["TIMESTAMP"]])
    updated = recipe.update(model, data)
    assert updated.item_ids[:V] == model.item_ids and updated.item_ids[-1] == "brand-new"
    before, after = dict(model.network.named_parameters()), dict(updated.network.named_parameters())
    for name, tensor in before.items():
        if name.startswith(("gru.", "combine.")):
            assert torch.equal(tensor, after[name]), name
        else:  # item rows: the old ones unchanged, one new row appended
            assert torch.equal(tensor, after[name][:V]), name
            assert after[name].shape[0] == V + 1
    assert updated.stats.popularity[-1] > 0
    assert "brand-new" in [i for i, _ in updated.recommend("x", ["i1"], V + 1,
                                                            exploration_weight=0)]


def grouped_catalogue_data(seed=0):
    """Sci-fi fans and drama fans; s0 / d0 the most popular of each group."""
    rng = np.random.default_rng(seed)
    groups = {"scifi": [f"s{k}" for k in range(15)], "drama": [f"d{k}" for k in range(15)]}
    titles = {**{f"s{k}": f"Star Voyage {k} space laser" for k in range(15)},
              **{f"d{k}": f"Quiet Family {k} letters home" for k in range(15)}}
    users, items, stamps = [], [], []
    popularity = 1.0 / np.arange(1, 16)
    for user in range(120):
        group = "scifi" if user % 2 else "drama"
        picks = rng.choice(groups[group], size=10, p=popularity / popularity.sum())
        for step, item in enumerate(picks):
            users.append(f"u{user}"), items.append(item)
            stamps.append(NOW - 60 * DAY + user * 100 + step)
    all_items = groups["scifi"] + groups["drama"]
    table = Table({"ITEM_ID": np.array(all_items, dtype=object),
                   "GENRE": np.array(["scifi"] * 15 + ["drama"] * 15, dtype=object),
                   "TITLE": np.array([titles[i] for i in all_items], dtype=object),
                   "CREATION_TIMESTAMP": np.full(30, NOW - 90 * DAY)},
                  {"ITEM_ID": ID, "GENRE": CATEGORICAL, "TITLE": TEXTUAL,
                   "CREATION_TIMESTAMP": TIMESTAMP})
    data = TrainingData.from_interactions(users, items, stamps)
    data.items = table
    return data


def add_item(table, item_id, genre, title, created):
    columns = {k: np.r_[v, np.array([x], dtype=v.dtype)] for (k, v), x in
               zip(table.columns.items(), [item_id, genre, title, created])}
    return Table(columns, table.kinds)


@pytest.fixture(scope="module")
def catalogue_model(recipe):
    return recipe.train(grouped_catalogue_data(), FAST, seed=1)


def test_new_item_with_metadata_gets_a_good_rank(recipe, catalogue_model):
    data = grouped_catalogue_data()
    data.items = add_item(data.items, "s-new", "scifi", "Star Voyage 99 space laser", NOW)
    updated = recipe.update(catalogue_model, data)
    fan_history = ["s0", "s1", "s2", "s0"]
    ranking = [i for i, _ in updated.recommend("x", fan_history, 31, exploration_weight=0)]
    position = ranking.index("s-new")
    drama_positions = [ranking.index(f"d{k}") for k in range(15)]
    assert position < min(drama_positions), ranking  # ranks with its sci-fi peers
    assert position < 15  # top half of the catalogue


def test_exploration_weight_changes_rankings(recipe, catalogue_model):
    data = grouped_catalogue_data()
    for k in range(5):
        data.items = add_item(data.items, f"fresh{k}", "drama", f"Quiet Family {k}", NOW - DAY)
    updated = recipe.update(catalogue_model, data)
    history = ["s0", "s1", "s3"]
    greedy = [i for i, _ in updated.recommend("x", history, 10, exploration_weight=0, now=NOW)]
    explore = [i for i, _ in updated.recommend("x", history, 10, exploration_weight=1.0, now=NOW)]
    assert greedy != explore
    assert sum(i.startswith("fresh") for i in explore) > sum(i.startswith("fresh") for i in greedy)
    # past the age cut-off nothing is explorable: exploration changes nothing
    later = NOW + 100 * DAY
    assert [i for i, _ in updated.recommend("x", history, 10, exploration_weight=1.0,
                                            now=later, exploration_item_age_cut_off=30)] == greedy


def test_cold_user_gets_popular_items_then_adapts(catalogue_model):
    cold = [i for i, _ in catalogue_model.recommend("new-user", [], 5, exploration_weight=0)]
    assert {"s0", "d0"} & set(cold)
    warmed = [i for i, _ in catalogue_model.recommend("new-user", ["d3", "d5"], 5,
                                                      exploration_weight=0)]
    assert all(i.startswith("d") for i in warmed)


def test_sampled_softmax_path_with_impressions_and_percentiles(recipe):
    data = sequential_data(num_users=80)
    columns = data.interactions.columns
    impressions = np.array([f"i{(int(i[1:]) + 20) % V}|{i}" for i in columns["ITEM_ID"]],
                           dtype=object)
    data = TrainingData.from_interactions(columns["USER_ID"], columns["ITEM_ID"],
                                          columns["TIMESTAMP"], impression=impressions)
    logs = []
    model = recipe.train(data, {**FAST, "softmax": "sampled", "num_negatives": "8",
                                "epochs": "3", "min_user_history_length_percentile": "0.2",
                                "log_every_steps": "5"}, seed=0, log=logs.append)
    assert any("sampled softmax (8 negatives)" in line for line in logs)
    assert any("events/s" in line for line in logs)
    assert model.stats.unclicked_impressions.sum() > 0
    assert len(model.recommend("x", ["i1"], 5)) == 5


def test_item_features_per_kind():
    items = Table({"ITEM_ID": np.array(["a", "b", "c"], dtype=object),
                   "GENRES": np.array(["Action|Comedy", "Comedy", ""], dtype=object),
                   "PRICE": np.array([1.0, 3.0, np.nan]),
                   "DESCRIPTION": np.array(["space laser battle", "space laser war", "soup"],
                                           dtype=object),
                   "CREATION_TIMESTAMP": np.array([1.0, 2.0, 3.0])},
                  {"ITEM_ID": ID, "GENRES": CATEGORICAL, "PRICE": NUMERICAL,
                   "DESCRIPTION": TEXTUAL, "CREATION_TIMESTAMP": TIMESTAMP})
    spec = fit_feature_spec(items)
    assert spec.categorical == ["GENRES"] and list(spec.numerical) == ["PRICE"]
    assert spec.textual == ["DESCRIPTION"] and spec.text_encoder == "hashed-bag-of-words"
    spec = FeatureSpec.from_json(spec.to_json())  # what the model saves
    matrix = item_feature_matrix(spec, items, ["a", "b", "c", "unknown"])
    assert matrix.shape == (4, spec.width)
    assert list(matrix[:, 0]) == [1, 1, 1, 0]                  # has-metadata flag
    genres = matrix[:, 1:1 + HASH_BUCKETS]
    assert (genres[0] > 0).sum() == 2 and (genres[1] > 0).sum() == 1 and genres[2].sum() == 0
    price = matrix[:, 1 + HASH_BUCKETS]
    np.testing.assert_allclose(price[:3], [-1, 1, 0])          # standardised, missing = mean
    text = matrix[:, 2 + HASH_BUCKETS:]
    assert text[0] @ text[1] > text[0] @ text[2]               # similar words, similar rows
    assert not matrix[3].any()
    # the nearest neighbour of a fresh 'space laser' item is a space-laser item
    query = item_feature_matrix(spec, Table({"ITEM_ID": np.array(["q"], dtype=object),
                                             "DESCRIPTION": np.array(["laser space"],
                                                                     dtype=object)},
                                            items.kinds), ["q"])
    assert nearest_neighbours(matrix[:3], query, 1)[0, 0] in (0, 1)


def test_new_item_embedding_is_the_mean_of_its_metadata_neighbours(recipe, catalogue_model):
    data = grouped_catalogue_data()
    data.items = add_item(data.items, "s-new", "scifi", "Star Voyage 7 space laser", NOW)
    updated = recipe.update(catalogue_model, data)
    new_row = updated.network.item_embedding.weight.detach()[-1]
    scifi_rows = [updated.index[f"s{k}"] for k in range(15)]
    drama_rows = [updated.index[f"d{k}"] for k in range(15)]
    weights = updated.network.item_embedding.weight.detach()
    to_scifi = torch.cdist(new_row[None], weights[scifi_rows].mean(0, keepdim=True))
    to_drama = torch.cdist(new_row[None], weights[drama_rows].mean(0, keepdim=True))
    assert float(to_scifi) < float(to_drama)


def test_text_encoder_missing_at_update_time_keeps_the_width(monkeypatch):
    from chalicelib.models import item_features
    monkeypatch.setattr(item_features, "_minilm_model", False)  # as if the load had failed
    vectors = item_features.encode_texts(["a title"], item_features.MINILM, 384)
    assert vectors.shape == (1, 384) and not vectors.any()
    fallback = item_features.encode_texts(["a title"], item_features.HASHED_BOW, 256)
    assert fallback.shape == (1, 256) and abs(np.linalg.norm(fallback) - 1) < 1e-5


def test_shifted_windows_predict_every_next_event_once_from_other_boundaries():
    from chalicelib.models.user_personalization import TrainingSettings, WindowBuilder
    lengths = [1, 5, 17, 40]
    user_codes = np.repeat(np.arange(len(lengths)), lengths)
    rows = np.arange(len(user_codes), dtype=np.int64)  # every event its own item
    stamps = rows.astype(np.float64)
    hard = np.full((len(rows), 0), -1, dtype=np.int64)
    builder = WindowBuilder(user_codes, rows, stamps, hard,
                            TrainingSettings.parse({"bptt": "8", "recency_mask": "false"}))
    plain = builder.windows()
    shifted = builder.windows(np.random.default_rng(1))

    def pairs(windows):  # (input item, next item) of every predicted step
        keep = windows.targets >= 0
        return sorted(zip(windows.inputs[keep].tolist(), windows.targets[keep].tolist()))

    expected = sorted((r, r + 1) for r in range(len(rows) - 1)
                      if user_codes[r] == user_codes[r + 1])
    assert pairs(plain) == pairs(shifted) == expected
    starts = lambda windows: sorted(windows.inputs[:, 0].tolist())  # noqa: E731
    assert starts(plain) != starts(shifted)
    # windows stay left-aligned: a step is input only when the step before it is
    for windows in (plain, shifted):
        present = windows.inputs >= 0
        assert bool((present[:, 1:] <= present[:, :-1]).all())


def _validation_log(recipe, metric: str) -> tuple[int, list[tuple[float, float]]]:
    """(kept epoch, per epoch (validation NDCG@10, cross-entropy)) of a run that early
    stopping cannot end before its 6 epochs."""
    logs = []
    recipe.train(sequential_data(), {**FAST, "epochs": "6", "early_stopping_patience": "6",
                                     "early_stopping_metric": metric}, seed=3,
                 log=logs.append)
    scores = [(float(line.split("validation ndcg@10 ")[1].split(",")[0]),
               float(line.split("validation cross-entropy ")[1]))
              for line in logs if line.startswith("epoch ")]
    kept = [line for line in logs if line.startswith("early stopping: kept epoch")]
    assert len(scores) == 6 and len(kept) == 1
    return int(kept[0].split()[4]), scores


@pytest.mark.parametrize("metric", ["cross-entropy", "ndcg@10"])
def test_early_stopping_keeps_the_epoch_its_metric_chooses(recipe, metric):
    kept, scores = _validation_log(recipe, metric)
    key = (lambda s: (-s[1], s[0])) if metric == "cross-entropy" else (lambda s: (s[0], -s[1]))
    assert kept == 1 + max(range(len(scores)), key=lambda k: key(scores[k]))


def test_the_default_stopping_metric_is_cross_entropy():
    assert TrainingSettings.parse({}).early_stopping_metric == "cross-entropy"
    with pytest.raises(ValueError, match="early_stopping_metric"):
        TrainingSettings.parse({"early_stopping_metric": "recall"})


def test_the_numpy_gru_state_is_the_torch_gru_state():
    # serving computes a history's state with SequenceNetwork.last_state (numpy); it must
    # be the state the trained GRU gives, for short and long histories and large inputs
    from chalicelib.models.user_personalization.network import SequenceNetwork
    torch.manual_seed(0)
    network = SequenceNetwork(10, 4, 16, dropout=0.3).eval()
    for steps in (1, 5, 40):
        x = 3 * torch.randn(steps, 16)
        with torch.no_grad():
            expected = network.sequence(x[None])[0, -1].numpy()
        np.testing.assert_allclose(network.last_state(x.numpy()), expected, rtol=1e-5,
                                   atol=1e-6)


def test_negatives_never_outnumber_the_items(recipe):
    """Drawn with replacement, more negatives than items would only repeat them: the
    default floor (2,048) and an explicit count are both capped at the vocabulary."""
    data = sequential_data(num_users=20)
    items = len(set(data.interactions.columns["ITEM_ID"]))
    for negatives in ("auto", "100000"):
        logs = []
        recipe.train(data, {**FAST, "softmax": "sampled", "num_negatives": negatives,
                            "epochs": "1"}, seed=0, log=logs.append)
        assert any(f"sampled softmax ({items} negatives)" in line for line in logs), logs[:2]
