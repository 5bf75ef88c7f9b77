"""aws-user-personalization-v2: causal self-attention over the user's z sequence.

Its contract: shapes, no position sees a later one, UPDATE adds items without touching the
attention, determinism with a seed, recommend/rank/related_items, save/load; and early
stopping (shared with v1) picks and reports its epoch. Tiny synthetic data (the user walks
i -> i+1), hashed text encoder (tests/training/test_user_personalization.py sets up both).
"""
import numpy as np
import pytest
import torch

from chalicelib.training.data import TrainingData
from chalicelib.training.recipes import get_recipe, load_model, save_model
from chalicelib.training.recipes.user_personalization import AttentionNetwork, Settings
from tests.training.test_user_personalization import (NOW, V, fast_environment,  # noqa: F401
                                                      sequential_data)

FAST_V2 = {"hidden_dimension": "32", "bptt": "16", "epochs": "25", "learning_rate": "0.01",
           "batch_size": "32", "dropout": "0.1"}


@pytest.fixture(scope="module")
def recipe():
    return get_recipe("arn:aws:personalize:::recipe/aws-user-personalization-v2")


@pytest.fixture(scope="module")
def trained(recipe):
    logs = []
    model = recipe.train(sequential_data(), FAST_V2, seed=5, log=logs.append)
    return model, logs


@pytest.fixture(scope="module")
def model(trained):
    return trained[0]


def test_v2_is_its_own_recipe_with_attention(recipe, model):
    assert recipe.name == "aws-user-personalization-v2"
    assert recipe.recipe_type == "USER_PERSONALIZATION"
    assert get_recipe("aws-user-personalization").sequence_model == "gru"
    assert isinstance(model.network, AttentionNetwork)
    assert model.recipe_name == "aws-user-personalization-v2"
    assert not hasattr(model.network, "gru")
    assert recipe.default_hyperparameters["apply_recency_bias"] == "true"
    settings = Settings.parse({"apply_recency_bias": "false"}, recipe.default_hyperparameters,
                              "transformer")
    assert settings.recency_mask is False and settings.sequence_model == "transformer"


def test_shapes_and_heads_that_do_not_divide_the_width():
    settings = Settings.parse({"hidden_dimension": "30", "bptt": "7", "num_heads": "4",
                               "num_blocks": "3"}, sequence_model="transformer")
    from chalicelib.training.recipes.user_personalization.network import build_network
    network = build_network(settings, num_items=11, feature_width=5).eval()
    assert len(network.blocks) == 3
    assert network.blocks[0].attention.num_heads == 3      # 4 does not divide 30
    z = network.item_vectors(torch.arange(11), torch.zeros(11, 5))
    assert z.shape == (11, 30)
    states = network.sequence(z[torch.tensor([[1, 2, 3, 4, 5, 6, 7], [3, 4, 0, 0, 0, 0, 0]])])
    assert states.shape == (2, 7, 30)
    assert torch.isfinite(states).all()


def test_no_position_sees_a_later_one(model):
    network = model.network
    rows = torch.tensor([[1, 2, 3, 4, 5, 6]])
    z = model._z
    before = network.sequence(z[rows])
    changed = rows.clone()
    changed[0, 4] = 30                    # change a later item...
    after = network.sequence(z[changed])
    assert torch.allclose(before[0, :4], after[0, :4], atol=1e-6)   # ...earlier states stay
    assert not torch.allclose(before[0, 4:], after[0, 4:], atol=1e-4)
    padded = torch.cat([z[rows], torch.randn(1, 3, z.shape[1])], dim=1)  # right padding
    assert torch.allclose(network.sequence(padded)[0, :6], before[0], atol=1e-6)


def test_learns_the_next_item(model):
    result = model.recommend("x", ["i10", "i11", "i12"], 5, exploration_weight=0)
    assert result[0][0] == "i13"
    live = model.recommend("x", ["i10", "i11", "i12", "i30", "i31"], 3, exploration_weight=0)
    assert live[0][0] == "i32"            # a new event changes the next recommendation
    hits = 0
    for start in range(0, V, 4):
        history = [f"i{(start + k) % V}" for k in range(4)]
        top = [i for i, _ in model.recommend("x", history, 3, exploration_weight=0)]
        hits += f"i{(start + 4) % V}" in top
    assert hits >= 0.8 * len(range(0, V, 4))


def test_model_contract_rank_related_mask_and_probabilities(model):
    result = model.recommend("x", ["i3", "i4"], 10, exploration_weight=0)
    assert len(result) == 10 and not {"i3", "i4"} & {i for i, _ in result}
    assert all(0 <= s <= 1 for _, s in result)
    ranked = model.rank("x", ["i7", "i8"], ["i30", "i9", "unknown", "i2"])
    assert ranked[0][0] == "i9" and ranked[-1] == ("unknown", 0.0)
    assert abs(sum(s for _, s in ranked) - 1.0) < 1e-5
    related = model.related_items("i5", 5)
    assert len(related) == 5 and "i5" not in [i for i, _ in related]
    mask = np.zeros(len(model.item_ids), dtype=bool)
    mask[[model.item_ids.index(f"i{k}") for k in (1, 2, 3)]] = True
    assert {i for i, _ in model.recommend("x", ["i20"], 10, mask=mask,
                                          exploration_weight=0)} == {"i1", "i2", "i3"}
    explored = model.recommend("x", ["i20"], 10, exploration_weight=0.9, now=NOW)
    assert len(explored) == 10


def test_early_stopping_picks_and_reports_the_epoch(trained):
    _, logs = trained
    kept = [line for line in logs if line.startswith("early stopping: kept epoch")]
    assert len(kept) == 1
    epochs = [line for line in logs if line.startswith("epoch ")]
    assert all("validation ndcg@10" in line for line in epochs)
    best, run = (int(w) for w in kept[0].split()[4:7:2])
    assert 1 <= best <= run == len(epochs) <= 25


def test_training_is_deterministic_given_the_seed(recipe, model):
    again = recipe.train(sequential_data(), FAST_V2, seed=5)
    for a, b in zip(again.network.parameters(), model.network.parameters()):
        assert torch.equal(a, b)
    assert again.recommend("x", ["i1", "i2"], 5, exploration_weight=0) == \
        model.recommend("x", ["i1", "i2"], 5, exploration_weight=0)


def test_save_load_round_trip(model, tmp_path):
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert isinstance(loaded.network, AttentionNetwork)
    for history in ([], ["i1"], ["i5", "i6", "i7"]):
        assert loaded.recommend("x", history, 8, exploration_weight=0.3, now=NOW) == \
            model.recommend("x", history, 8, exploration_weight=0.3, now=NOW)


def test_update_adds_items_and_leaves_the_attention_untouched(recipe, model):
    data = sequential_data()
    columns = data.interactions.columns
    data = TrainingData.from_interactions(
        np.r_[columns["USER_ID"], ["u1", "u2"]], np.r_[columns["ITEM_ID"], ["brand-new", "i3"]],
        np.r_[columns["TIMESTAMP"], [NOW, NOW]])
    updated = recipe.update(model, data)
    assert isinstance(updated.network, AttentionNetwork)
    assert updated.recipe_name == "aws-user-personalization-v2"
    assert updated.item_ids[:V] == model.item_ids and updated.item_ids[-1] == "brand-new"
    before, after = dict(model.network.named_parameters()), dict(updated.network.named_parameters())
    attention = [n for n in before if n.startswith(("blocks.", "position.", "final_norm."))]
    assert attention
    for name, tensor in before.items():
        if name.startswith(("item_embedding.", "item_bias.")):
            assert torch.equal(tensor, after[name][:V]) and after[name].shape[0] == V + 1
        else:
            assert torch.equal(tensor, after[name]), name
    assert "brand-new" in [i for i, _ in updated.recommend("x", ["i1"], V + 1,
                                                            exploration_weight=0)]


def test_sampled_softmax_path_trains_the_attention(recipe):
    logs = []
    model = recipe.train(sequential_data(num_users=80),
                         {**FAST_V2, "softmax": "sampled", "num_negatives": "8", "epochs": "2",
                          "early_stopping_patience": "0"}, seed=0, log=logs.append)
    assert any("sampled softmax (8 negatives)" in line for line in logs)
    assert not any(line.startswith("early stopping") for line in logs)
    assert len(model.recommend("x", ["i1"], 5)) == 5
