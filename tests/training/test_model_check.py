"""Issue 13 point 6 in training: a model with NaN or infinite learned numbers is never
served, and every failureReason is written for a user."""
from __future__ import annotations

import math

import pytest

from chalicelib.errors import InvalidInputException, JobFailure, failure_reason
from chalicelib.models.data import TrainingData
from chalicelib.training.model_check import UnusableModelError, check_model, non_finite_parts
from chalicelib.models import get_recipe
from tests.api.builders import interactions


@pytest.fixture(scope="module")
def data():
    rows = interactions()
    return TrainingData.from_interactions([r[0] for r in rows], [r[1] for r in rows],
                                          [r[3] for r in rows])


@pytest.fixture(scope="module")
def personal(data):
    return get_recipe("aws-user-personalization").train(data, {"epochs": "1"}, seed=0)


def test_trained_models_pass(data, personal):
    histories = {"u1": ["i1", "i2"], "u2": ["i40"]}
    for name in ("aws-popularity-count", "aws-sims", "aws-trending-now"):
        check_model(get_recipe(name).train(data, {}, seed=0), histories)
    check_model(personal, histories)


def test_a_nan_weight_fails_the_check_naming_it(personal):
    import torch
    weights = next(iter(personal.network.state_dict().values()))
    saved = weights.clone()
    try:
        with torch.no_grad():
            weights.view(-1)[0] = math.nan
        parts = non_finite_parts(personal)
        assert parts and parts[0].startswith("network.")
        with pytest.raises(UnusableModelError) as error:
            check_model(personal)
        assert "NaN" in error.value.message and "learning_rate" in error.value.message
    finally:
        with torch.no_grad():
            weights.copy_(saved)
    check_model(personal)


def test_infinite_scores_fail_the_check(data):
    model = get_recipe("aws-popularity-count").train(data, {}, seed=0)
    model._scores[3] = math.inf
    with pytest.raises(UnusableModelError):
        check_model(model)


def test_failure_reasons_are_sentences_for_users():
    assert failure_reason(JobFailure("The file is empty."), "Training", "the log") \
        == "The file is empty."
    assert failure_reason(InvalidInputException("No such thing."), "Training", "the log") \
        == "No such thing."
    generic = failure_reason(ValueError("could not convert string to float: 'abc'"),
                             "Training", "the training task's log")
    assert "could not convert" not in generic and "ValueError" not in generic
    assert generic.startswith("Training failed") and "the training task's log" in generic
    memory = failure_reason(RuntimeError("DefaultCPUAllocator: can't allocate memory: you "
                                         "tried to allocate 6700000000000000 bytes."),
                            "Training", "the log")
    assert "out of memory" in memory and "6700000000000000" not in memory
    assert len(failure_reason(JobFailure("x" * 5000), "Training", "the log")) == 1000
