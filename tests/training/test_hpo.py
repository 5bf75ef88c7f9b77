"""HPO and AutoML with a fake train_and_score: the search stays in the ranges, runs the
asked number of trials, and keeps the best trial's model and metrics by the objective
(either direction), without training it again."""
import pytest

from chalicelib.training import hpo
from chalicelib.training.evaluation import Evaluation

RANGES = {"integerHyperParameterRanges": [{"name": "n", "minValue": 1, "maxValue": 9}],
          "continuousHyperParameterRanges": [{"name": "x", "minValue": 0.0,
                                              "maxValue": 1.0}],
          "categoricalHyperParameterRanges": [{"name": "c", "values": ["a", "b"]}]}


def fake_evaluate(calls):
    """Each call 'trains' a distinct model (its call number) and scores it."""
    def train_and_score(recipe, split, params, seed=0, log=None):
        calls.append(dict(params))
        score = int(params["n"]) + float(params["x"]) + (1 if params["c"] == "b" else 0)
        return Evaluation(model=len(calls), metrics={"precision_at_25": score})
    return train_and_score


@pytest.mark.parametrize("direction", ["Maximize", "Minimize"])
def test_tune(direction):
    calls = []
    config = {"hpoObjective": {"type": direction, "metricName": "precision_at_25"},
              "hpoResourceConfig": {"maxNumberOfTrainingJobs": "12"},
              "algorithmHyperParameterRanges": RANGES}
    best, evaluation = hpo.tune(None, None, {"epochs": "1"}, config, fake_evaluate(calls))
    metrics = evaluation.metrics
    assert len(calls) == 12
    assert all(1 <= int(c["n"]) <= 9 and 0 <= float(c["x"]) <= 1 and c["c"] in "ab"
               and c["epochs"] == "1" for c in calls)
    scores = [int(c["n"]) + float(c["x"]) + (c["c"] == "b") for c in calls]
    chosen = max(scores) if direction == "Maximize" else min(scores)
    assert metrics["precision_at_25"] == pytest.approx(chosen)
    assert best in calls
    # the version keeps the chosen trial's own model: no 13th training
    assert evaluation.model == scores.index(chosen) + 1


@pytest.mark.parametrize("ranges, config", [
    ({"integerHyperParameterRanges": [{"name": "n", "minValue": 5, "maxValue": 1}]}, {}),
    ({"categoricalHyperParameterRanges": [{"name": "c", "values": []}]}, {}),
    (RANGES, {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "0"}}),
    (RANGES, {"hpoObjective": {"metricName": "nope"}}),
])
def test_bad_configs(ranges, config):
    with pytest.raises(hpo.HPOConfigError):
        hpo.tune(None, None, {}, {**config, "algorithmHyperParameterRanges": ranges},
                 fake_evaluate([]))


def test_automl_picks_the_best_recipe():
    scores = {"aws-user-personalization": 0.2, "aws-popularity-count": 0.5}

    def evaluate(recipe, split, params, seed=0, log=None):
        return Evaluation(model=recipe.name, metrics={"precision_at_25": scores[recipe.name]})
    recipe, params, evaluation = hpo.choose_recipe(
        {"metricName": "precision_at_25"}, None, lambda arn: {"from": arn}, evaluate)
    assert recipe.name == "aws-popularity-count"
    assert evaluation.metrics["precision_at_25"] == 0.5
    assert evaluation.model == "aws-popularity-count"
    assert params == {"from": "arn:aws:personalize:::recipe/aws-popularity-count"}
    with pytest.raises(hpo.HPOConfigError):
        hpo.choose_recipe({"recipeList": ["arn:aws:personalize:::recipe/aws-nope"]}, None,
                          dict, evaluate)
