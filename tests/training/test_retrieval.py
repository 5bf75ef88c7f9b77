"""Candidate retrieval for large catalogues: the IVF index and the model's retrieval path.

The model tests lower RETRIEVAL_FROM so that a 40-item model takes the path a catalogue of a
hundred thousand items takes, and compare it with exact scoring of the same model.
"""
import threading
import time

import numpy as np
import pytest
import torch

from chalicelib.models import get_recipe
from chalicelib.models.user_personalization import scoring
from chalicelib.models.retrieval import InnerProductIndex
from tests.training.test_user_personalization import FAST, NOW, V, sequential_data


def blobs(n=4000, d=16, centres=40, seed=0):
    generator = torch.Generator().manual_seed(seed)
    middle = torch.randn(centres, d, generator=generator) * 3
    labels = torch.randint(centres, (n,), generator=generator)
    return middle[labels] + 0.3 * torch.randn(n, d, generator=generator)


def test_every_row_is_in_exactly_one_leaf():
    vectors = blobs()
    index = InnerProductIndex(vectors, float_scan_bytes=0)   # the int8 copy of large indexes
    assert sorted(index.order.tolist()) == list(range(len(vectors)))
    assert int(index.sizes.sum()) == len(vectors)
    assert 40 <= index.num_leaves <= 100  # about sqrt(4000)
    # the int8 copy in leaf order decodes to the vectors within half a step per component
    decoded = index.codes.astype(np.float32) * index.scales[:, None]
    step = np.abs(vectors.numpy()[index.order]).max(1, keepdims=True) / 127
    assert (np.abs(decoded - vectors.numpy()[index.order]) <= 0.5001 * step).all()


def test_the_best_probed_items_are_scored_exactly_and_the_others_nearly():
    vectors = blobs(n=20000, d=24)
    bias = torch.randn(len(vectors))
    index = InnerProductIndex(vectors, bias=bias, float_scan_bytes=0)
    query = torch.randn(25).numpy()
    found = index.search(query, 4000)
    exact = vectors.numpy()[found.rows] @ query[:24] + query[24] * bias.numpy()[found.rows]
    top = np.argsort(-exact)[:50]
    np.testing.assert_allclose(found.scores[top], exact[top], rtol=1e-5, atol=1e-5)
    spread = np.abs(exact).max()
    assert np.abs(found.scores - exact).max() < 0.02 * spread
    assert not np.array_equal(found.scores, exact)   # the rest did come from the int8 codes


def test_an_index_that_fits_the_float_budget_scores_every_probed_item_exactly():
    vectors = blobs(n=20000, d=24)
    bias = torch.randn(len(vectors))
    index = InnerProductIndex(vectors, bias=bias)
    assert index.codes is None and index.float_rows.shape == (20000, 25)
    query = torch.randn(25).numpy()
    found = index.search(query, 4000)
    exact = vectors.numpy()[found.rows] @ query[:24] + query[24] * bias.numpy()[found.rows]
    np.testing.assert_allclose(found.scores, exact, rtol=1e-5, atol=1e-4)
    # one byte over the budget: int8
    over = InnerProductIndex(vectors, bias=bias, float_scan_bytes=20000 * 25 * 4 - 1)
    assert over.float_rows is None and over.codes.dtype == np.int8


def test_a_crowd_of_identical_vectors_is_indexed_once_and_returned_in_part():
    # cold items with the same metadata share one ID embedding: 3,000 of them here
    vectors = torch.cat([blobs(n=1000), 10 * torch.ones(3000, 16)])
    index = InnerProductIndex(vectors)
    assert int(index.sizes.sum()) == len(vectors)            # items per leaf ...
    assert int(index.distinct_sizes.sum()) == 1001           # ... vectors scanned per leaf
    assert len(index.order) == 1001 and len(index.leaf_of) == len(vectors)
    found = index.search(np.ones(16), 200, crowd_rows=50)    # the crowd scores best
    crowd = found.rows[found.rows >= 1000]
    assert len(crowd) == 50 and len(set(found.rows.tolist())) == len(found.rows)
    np.testing.assert_allclose(found.scores, vectors.numpy()[found.rows] @ np.ones(16),
                               rtol=0.02)
    # the other 2,950 members are one exact tail entry, counted for the normaliser
    crowd_tail = found.tail_leaves >= index.num_leaves
    assert crowd_tail.sum() == 1
    assert float(np.exp(found.tail_log_sizes[crowd_tail][0])) == pytest.approx(2950)
    assert float(found.tail_scores[crowd_tail][0]) == pytest.approx(160.0)
    means = index.leaf_means(np.arange(len(vectors), dtype=np.float64))
    assert len(means) == index.num_leaves + len(index.order)


def test_a_crowd_does_not_use_up_the_budget_of_a_search():
    # the items that score best are among the 1,000 distinct ones, yet the crowd's vector
    # is close behind: before crowds were indexed once, its 3,000 copies filled every probe
    generator = torch.Generator().manual_seed(2)
    distinct = blobs(n=1000)
    vectors = torch.cat([distinct, distinct.mean(0).expand(30000, -1)])
    index = InnerProductIndex(vectors)
    recalls = []
    for _ in range(50):
        query = torch.randn(16, generator=generator)
        found = index.search(query.numpy(), 100)
        exact = vectors @ query
        last = float(torch.topk(exact, 10).values[-1])
        best = np.argsort(-found.scores)[:10]
        recalls.append(float((exact[found.rows[best]] >= last - 1e-4).float().mean()))
    assert np.mean(recalls) >= 0.9


def test_a_budget_over_the_catalogue_scores_everything_exactly():
    vectors = blobs()
    index = InnerProductIndex(vectors)
    query = torch.randn(vectors.shape[1]).numpy()
    found = index.search(query, len(vectors))
    assert sorted(found.rows.tolist()) == list(range(len(vectors)))
    exact = vectors.numpy()[found.rows] @ query
    assert np.abs(found.scores - exact).max() < 0.02 * np.abs(exact).max()
    best = np.argsort(-exact)[:100]
    np.testing.assert_allclose(found.scores[best], exact[best], rtol=1e-4, atol=1e-4)
    assert len(found.tail_leaves) == 0


def test_a_small_budget_finds_the_best_items():
    vectors = blobs()
    index = InnerProductIndex(vectors)
    generator = torch.Generator().manual_seed(1)
    recalls = []
    for _ in range(50):
        query = torch.randn(vectors.shape[1], generator=generator)
        found = index.search(query.numpy(), len(vectors) // 10)
        assert len(found.rows) < len(vectors) // 5
        best = set(torch.topk(vectors @ query, 10).indices.tolist())
        recalls.append(len(best & set(found.rows.tolist())) / 10)
    assert np.mean(recalls) >= 0.9
    # unprobed leaves are reported for the normaliser estimate, probed ones are not
    assert set(found.tail_leaves.tolist()).isdisjoint(
        int(index.leaf_of[row]) for row in found.rows[:5])


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return get_recipe("aws-user-personalization").train(sequential_data(), FAST, seed=3)


@pytest.fixture
def retrieval(monkeypatch, model):
    monkeypatch.setattr(scoring, "RETRIEVAL_FROM", 0)
    monkeypatch.setattr(scoring, "RETRIEVAL_BUDGET", V // 2)
    model.scorer.index()  # built now, not in the background


def test_requests_before_the_index_is_built_are_scored_exactly(monkeypatch):
    monkeypatch.setattr(scoring, "RETRIEVAL_FROM", 0)
    monkeypatch.setattr(scoring, "RETRIEVAL_BUDGET", 1)
    release = threading.Event()

    def slow_index(*args, **kwargs):
        release.wait(30)
        return InnerProductIndex(*args, **kwargs)

    monkeypatch.setattr(scoring, "InnerProductIndex", slow_index)
    fresh = get_recipe("aws-user-personalization").train(sequential_data(), FAST, seed=3)
    got = fresh.recommend("u", ["i0"], 5, exploration_weight=0.0, now=NOW)
    assert fresh.scorer._building and fresh.scorer.ready_index() is None
    assert got == exact(fresh, "u", ["i0"], 5, exploration_weight=0.0, now=NOW)
    release.set()
    assert fresh.scorer.index() is not None


def exact(model, *args, **kwargs):
    saved = scoring.RETRIEVAL_FROM
    scoring.RETRIEVAL_FROM = 10 ** 12
    try:
        return model.recommend(*args, **kwargs)
    finally:
        scoring.RETRIEVAL_FROM = saved


def test_retrieval_path_agrees_with_exact_scoring(model, retrieval):
    overlaps = []
    for start in range(V):
        history = [f"i{(start + k) % V}" for k in range(4)]
        approximate = model.recommend("u", history, 5, exploration_weight=0.0, now=NOW)
        full = exact(model, "u", history, 5, exploration_weight=0.0, now=NOW)
        assert not {item for item, _ in approximate} & set(history)
        overlaps.append(len({i for i, _ in approximate} & {i for i, _ in full}) / 5)
        # probabilities over the whole catalogue: estimated, so close but not equal
        assert 0 < sum(s for _, s in approximate) <= 1.0 + 1e-6
        for (item, score), (other, exact_score) in zip(approximate, full):
            if item == other:
                assert score == pytest.approx(exact_score, rel=0.5)
    assert np.mean(overlaps) >= 0.8


def test_retrieval_path_respects_the_mask_and_falls_back_when_it_is_narrow(model, retrieval):
    history = ["i0", "i1", "i2"]
    best = [i for i, _ in exact(model, "u", history, V, exploration_weight=0.0, now=NOW)]
    allowed = {best[-1], best[-2], best[-3]}  # the three worst: never retrieved first
    mask = np.array([item in allowed for item in model.item_ids])
    got = model.recommend("u", history, 3, mask=mask, exploration_weight=0.0, now=NOW)
    assert {item for item, _ in got} == allowed


def test_retrieval_path_explores_by_drawing_young_items(model, retrieval):
    young = model.item_ids[:5]
    model.stats.first_seen[:] = NOW - 100 * 86400.0  # everything past the cut-off ...
    model.stats.first_seen[:5] = NOW                   # ... except five brand-new items
    model.scorer._bonus.clear()
    try:
        history = model.item_ids[-2:]
        got = model.recommend("u", history, 10, exploration_weight=1.0,
                              exploration_item_age_cut_off=30.0, now=NOW)
        assert set(young) <= {item for item, _ in got}
        none = model.recommend("u", history, 10, exploration_weight=0.0, now=NOW)
        assert len({item for item, _ in none} & set(young)) < 5
    finally:
        model.stats.first_seen[:] = NOW - 30 * 86400.0
        model.scorer._bonus.clear()


def test_user_state_is_cached_until_the_history_changes(model):
    rows = [model.index["i3"], model.index["i4"]]
    first = model.scorer.user_state(rows)
    assert model.scorer.user_state(list(rows)) is first
    assert not torch.equal(model.scorer.user_state(rows + [model.index["i5"]]), first)


def test_retrieval_scratch_is_reset_after_each_request(model, retrieval):
    # the per-thread position array must read -1 everywhere between requests, or the next
    # request would take stale rows for candidates or history
    for start in range(0, V, 7):
        history = [f"i{(start + k) % V}" for k in range(3)]
        got = model.recommend("u", history, 8, exploration_weight=0.5, now=NOW)
        assert not {item for item, _ in got} & set(history)
        assert all((mark == -1).all() for mark in model.scorer._scratch.marks)


def test_a_stale_bonus_is_served_while_it_is_refreshed_in_the_background(model):
    scorer = model.scorer
    scorer._bonus.clear()
    fresh, _ = scorer.bonus(None, 30.0)   # nothing cached: computed at once
    stale = np.zeros_like(fresh)
    scorer._bonus[30.0] = (time.time() - 10 * scoring.BONUS_REFRESH_SECONDS, stale,
                           np.zeros(0, dtype=np.int32))
    served, _ = scorer.bonus(None, 30.0)
    assert served is stale                # the request did not wait for the refresh
    deadline = time.time() + 30
    while scorer._bonus[30.0][1] is stale and time.time() < deadline:
        time.sleep(0.01)
    np.testing.assert_allclose(scorer._bonus[30.0][1], fresh, rtol=1e-5)
    # an explicit clock (simulations) recomputes synchronously
    later = time.time() + 10 * scoring.BONUS_REFRESH_SECONDS
    assert scorer.bonus(later, 30.0)[1] is not None and scorer._bonus[30.0][0] == later
    scorer._bonus.clear()


def test_the_retrieval_path_over_crowds_matches_exact_scoring(monkeypatch):
    # Rows found through index positions, crowd members, popular and drawn items: each must
    # land on its own row of the request. With every vector probed, the retrieval path's
    # probabilities are the exact ones, crowds and history included.
    from chalicelib.models.exploration import ItemStatistics
    generator = torch.Generator().manual_seed(5)
    distinct = torch.randn(600, 8, generator=generator)
    crowd_vectors = torch.randn(3, 8, generator=generator)
    z = torch.cat([distinct, crowd_vectors.repeat_interleave(400, 0)])   # 1,800 items
    bias = torch.cat([0.1 * torch.randn(600, generator=generator),
                      torch.tensor([0.5, 0.0, -0.5]).repeat_interleave(400)])
    stats = ItemStatistics(np.full(len(z), NOW - 86400.0),
                           np.random.default_rng(0).random(len(z)).astype(np.float32) * 5,
                           np.zeros(len(z), np.float32))
    scorer = scoring.Scorer(z, bias, stats, lambda x: x, bptt=4)
    monkeypatch.setattr(scoring, "RETRIEVAL_FROM", 0)
    monkeypatch.setattr(scoring, "RETRIEVAL_BUDGET", len(z))
    monkeypatch.setattr(scoring, "CROWD_ROWS", 400)
    index = scorer.index()
    assert index.counts is not None and len(index.order) == 603
    state = torch.randn(8, generator=generator)
    history = [3, 650, 1210, int(scorer.popular[0])]   # distinct, crowd members, popular
    space = scorer._retrieved(index, state, 0.2, history, None, True, NOW, 30.0,
                              torch.Generator().manual_seed(1), 10)
    exact = scorer._exact(state, 0.2, history, None, False, NOW, 30.0)
    rows = space.rows.numpy()
    assert len(set(rows.tolist())) == len(rows) == len(z)       # each item once
    np.testing.assert_allclose(space.exploit.numpy(), exact.exploit.numpy()[rows],
                               rtol=1e-4, atol=1e-9)
    assert set(rows[~space.candidates.numpy()].tolist()) == set(history)
    assert set(rows[space.history.numpy()].tolist()) == set(history)
    explored = rows[space.explore.numpy() > 0]   # drawn items, all candidates
    assert len(explored) and not set(explored.tolist()) & set(history)
    assert all((mark == -1).all() for mark in scorer._scratch.marks)


def test_warmed_states_are_the_states_requests_compute(model):
    # prepare() caches the training users' states in batches of right-padded sequences;
    # each must be what user_state computes for that history alone
    histories = {f"u{n}": [f"i{(n + k) % V}" for k in range(1 + n % 7)] for n in range(30)}
    model.scorer._states.clear()
    model.prepare(histories)
    warmed = dict(model.scorer._states)
    assert len(warmed) == 30
    model.scorer._states.clear()
    for history in histories.values():
        rows = model._rows(history)
        computed = model.scorer.user_state(rows)
        torch.testing.assert_close(warmed[tuple(rows[-model.settings.bptt:])], computed,
                                   rtol=1e-4, atol=1e-5)
