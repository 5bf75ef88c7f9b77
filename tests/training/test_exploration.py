"""Item statistics, the exploration bonus and the exploit/explore blend."""
import numpy as np
import torch

from chalicelib.models.data import Table, TrainingData
from chalicelib.models.exploration import (SECONDS_PER_DAY, ItemStatistics, blend,
                                           compute_item_statistics, exploration_bonus,
                                           exploration_distribution)

NOW = 1_700_000_000.0


def test_statistics_count_unclicked_impressions_and_first_seen():
    data = TrainingData.from_interactions(
        ["u1", "u1", "u2"], ["a", "b", "a"], [NOW - 10, NOW - 5, NOW],
        impression=["a|b|c", "b|c", "a|c|b"])
    items = Table({"ITEM_ID": np.array(["a", "b", "c"], dtype=object),
                   "CREATION_TIMESTAMP": np.array([NOW - 100, np.nan, NOW - 50])})
    index = {"a": 0, "b": 1, "c": 2}
    stats = compute_item_statistics(index, data.interactions, items, half_life_days=0)
    np.testing.assert_allclose(stats.popularity, [2, 1, 0])
    # c was shown three times and never clicked; b was ignored by u2 only
    np.testing.assert_allclose(stats.unclicked_impressions, [0, 1, 3])
    np.testing.assert_allclose(stats.first_seen, [NOW - 100, NOW - 5, NOW - 50])


def test_bonus_prefers_new_items_with_little_evidence_and_stops_at_the_cut_off():
    stats = ItemStatistics(first_seen=np.array([NOW, NOW, NOW - 40 * SECONDS_PER_DAY, np.nan]),
                           popularity=np.array([0, 50, 0, 0], np.float32),
                           unclicked_impressions=np.zeros(4, np.float32))
    bonus = exploration_bonus(stats, NOW, age_cut_off_days=30)
    assert bonus[0] == 1.0 and bonus[3] == 1.0     # brand new (unknown age counts as new)
    assert 0 < bonus[1] < 0.2                      # well known
    assert bonus[2] == 0.0                         # older than the cut-off


def test_blend_weight_zero_is_pure_exploitation_and_one_explores():
    exploit = torch.tensor([0.5, 0.3, 0.1, 0.05, 0.05])
    candidates = torch.ones(5, dtype=torch.bool)
    bonus = np.array([0, 0, 0, 1, 1], np.float32)
    explore = exploration_distribution(bonus, torch.log(exploit), candidates)
    generator = torch.Generator().manual_seed(0)
    greedy = blend(exploit, explore, 0.0, candidates, 2, generator)
    assert [i for i, _ in greedy] == [0, 1]
    explored = blend(exploit, explore, 1.0, candidates, 2, generator)
    assert sorted(i for i, _ in explored) == [3, 4]
    assert all(0 <= s <= 1 for _, s in greedy + explored)


def test_blend_respects_candidates_and_never_repeats():
    exploit = torch.softmax(torch.randn(50, generator=torch.Generator().manual_seed(1)), 0)
    candidates = torch.zeros(50, dtype=torch.bool)
    candidates[10:30] = True
    explore = exploration_distribution(np.ones(50, np.float32), torch.log(exploit), candidates)
    picked = blend(exploit, explore, 0.5, candidates, 25, torch.Generator().manual_seed(2))
    rows = [i for i, _ in picked]
    assert len(rows) == 20 and len(set(rows)) == 20 and all(10 <= i < 30 for i in rows)


def test_no_explorable_items_falls_back_to_exploitation():
    exploit = torch.tensor([0.6, 0.4])
    candidates = torch.ones(2, dtype=torch.bool)
    assert exploration_distribution(np.zeros(2, np.float32), torch.log(exploit), candidates) is None
