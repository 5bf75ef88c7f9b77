"""Alias sampler and sampled softmax with log-Q correction."""
import numpy as np
import pytest
import torch

from chalicelib.models.sampling import (AliasSampler, build_alias_table,
                                        default_num_negatives, full_softmax_loss,
                                        sampled_softmax_loss, unigram_proposal)


def zipf(size, exponent=1.1):
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def test_alias_table_reconstructs_the_distribution_exactly():
    p = zipf(37)
    accept, alias = build_alias_table(p)
    mass = accept / len(p)
    np.add.at(mass, alias, (1 - accept) / len(p))
    np.testing.assert_allclose(mass, p, atol=1e-12)


def test_alias_draws_match_q_chi_square():
    p = zipf(50)
    sampler = AliasSampler(p)
    draws = 200_000
    counts = np.bincount(sampler.draw(draws, torch.Generator().manual_seed(3)).numpy(),
                         minlength=50)
    expected = p * draws
    chi_square = ((counts - expected) ** 2 / expected).sum()
    # 49 degrees of freedom: mean 49, sd ~9.9; 6 sd is a generous bound
    assert chi_square < 49 + 6 * np.sqrt(2 * 49), chi_square


def test_draws_are_deterministic_given_the_generator():
    sampler = AliasSampler(zipf(1000))
    a = sampler.draw(500, torch.Generator().manual_seed(7))
    b = sampler.draw(500, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_proposal_keeps_unseen_items_drawable_and_negatives_scale():
    q = unigram_proposal(np.array([0, 10, 100]))
    assert q[0] > 0 and abs(q.sum() - 1) < 1e-12
    assert default_num_negatives(10_000_000) == 3163    # sqrt(V) for huge catalogues
    assert default_num_negatives(1_000_000) == 2048     # the floor below 4.2M items
    assert default_num_negatives(10) == 10              # never more than the vocabulary


def _gradient(loss_fn, hidden):
    h = hidden.clone().requires_grad_(True)
    loss_fn(h).backward()
    return h.grad[0]


def test_log_q_correction_makes_the_gradient_close_to_the_full_softmax():
    torch.manual_seed(0)
    vocabulary, dim, num_sampled = 200, 8, 100
    q = torch.from_numpy(zipf(vocabulary, 1.2)).float()
    sampler = AliasSampler(q.numpy())
    vectors, bias = torch.randn(vocabulary, dim), torch.zeros(vocabulary)
    hidden, target = torch.randn(1, dim) * 0.5, torch.tensor([150])
    weights = torch.ones(1)
    exact = _gradient(lambda h: full_softmax_loss(h, target, vectors, bias, weights), hidden)
    generator = torch.Generator().manual_seed(1)
    estimates = {True: [], False: []}
    for _ in range(300):
        negatives = sampler.draw(num_sampled, generator)
        for correct in (True, False):
            estimates[correct].append(_gradient(lambda h: sampled_softmax_loss(
                h, target, vectors[target], bias[target], negatives, vectors[negatives],
                bias[negatives], sampler.log_q, weights, subtract_log_q=correct), hidden))
    error = {c: float((torch.stack(e).mean(0) - exact).norm()) for c, e in estimates.items()}
    assert error[True] < 0.15 * float(exact.norm()), error
    assert error[True] < 0.5 * error[False], error


def test_distinct_negatives_with_inclusion_correction_estimate_the_full_softmax():
    """The trainer scores each distinct draw once, corrected by log P(item drawn at least
    once); that estimate must stay as close to the full softmax as the per-draw one."""
    torch.manual_seed(0)
    vocabulary, dim, num_sampled = 200, 8, 100
    q = torch.from_numpy(zipf(vocabulary, 1.2)).float()
    sampler = AliasSampler(q.numpy())
    vectors, bias = torch.randn(vocabulary, dim), torch.zeros(vocabulary)
    hidden, target = torch.randn(1, dim) * 0.5, torch.tensor([150])
    weights = torch.ones(1)
    exact = _gradient(lambda h: full_softmax_loss(h, target, vectors, bias, weights), hidden)
    generator = torch.Generator().manual_seed(1)
    estimates, sizes = {"distinct": [], "per draw": [], "uncorrected": []}, []
    for _ in range(300):
        drawn = sampler.draw(num_sampled, generator)
        distinct = torch.unique(drawn)
        sizes.append(len(distinct))
        for kind, negatives, draws, correct in (("distinct", distinct, num_sampled, True),
                                                ("per draw", drawn, None, True),
                                                ("uncorrected", distinct, None, False)):
            estimates[kind].append(_gradient(lambda h: sampled_softmax_loss(
                h, target, vectors[target], bias[target], negatives, vectors[negatives],
                bias[negatives], sampler.log_q, weights, subtract_log_q=correct,
                draws=draws), hidden))
    error = {k: float((torch.stack(e).mean(0) - exact).norm()) for k, e in estimates.items()}
    assert max(sizes) < num_sampled            # popular items were drawn more than once
    distinct = sampler.unique_negatives(50, generator)
    assert torch.equal(distinct, torch.unique(distinct))
    assert error["distinct"] < 0.15 * float(exact.norm()), error
    assert error["distinct"] <= 1.1 * error["per draw"], error
    assert error["distinct"] < 0.5 * error["uncorrected"], error


def test_accidental_hits_and_hard_negatives():
    hidden = torch.tensor([[1.0, 0.0]])
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    bias, log_q, weights = torch.zeros(3), torch.log(torch.full((3,), 1 / 3)), torch.ones(1)
    target = torch.tensor([0])
    only_self = sampled_softmax_loss(hidden, target, vectors[target], bias[target],
                                     torch.tensor([0]), vectors[[0]], bias[[0]], log_q, weights)
    assert float(only_self) == 0.0  # the target drawn as its own negative is ignored
    negatives = torch.tensor([1])
    plain = sampled_softmax_loss(hidden, target, vectors[target], bias[target], negatives,
                                 vectors[negatives], bias[negatives], log_q, weights)
    hard = torch.tensor([[2, -1]])
    with_hard = sampled_softmax_loss(hidden, target, vectors[target], bias[target], negatives,
                                     vectors[negatives], bias[negatives], log_q, weights,
                                     hard, vectors[hard.clamp_min(0)], bias[hard.clamp_min(0)])
    assert float(with_hard) > float(plain)  # a strong impression negative raises the loss


def test_negative_sampling_power_flattens_the_trainers_proposal():
    """negative_sampling_power p draws negatives from (count + 1)^p: 1 is the unigram
    proposal, 0 uniform, and the log-Q correction uses the proposal actually drawn from."""
    from chalicelib.models.user_personalization.network import build_network
    from chalicelib.models.user_personalization.settings import TrainingSettings
    from chalicelib.models.user_personalization.trainer import Trainer

    counts = np.array([1000.0, 100.0, 10.0, 0.0] * 1000)
    proposals = {}
    for power in ("1.0", "0.5", "0"):
        settings = TrainingSettings.parse({"softmax": "sampled",
                                           "negative_sampling_power": power})
        network = build_network(settings, len(counts), 1, None)
        trainer = Trainer(network, torch.zeros(len(counts), 1), counts, settings, 0,
                          lambda _: None)
        proposals[power] = trainer.sampler.probabilities
        assert torch.allclose(trainer.sampler.log_q,
                              torch.log(torch.from_numpy(proposals[power]).float()))
    ratio = {power: q[0] / q[3] for power, q in proposals.items()}
    assert ratio["1.0"] == pytest.approx(1001.0)
    assert ratio["0.5"] == pytest.approx(1001.0 ** 0.5)
    assert np.allclose(proposals["0"], 1.0 / len(counts))
