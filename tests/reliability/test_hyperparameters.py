"""Issue 13 point 9: CreateSolution checks every hyperparameter before anything trains.

A value outside the recipe's documented type and range (DescribeAlgorithm's
defaultHyperParameterRanges, the recipe pages for featurization parameters, and this
implementation's own training knobs) is InvalidInputException (400) naming the parameter
and what it may be; no solution is created. Good values are accepted as given."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code, ready

UP = "arn:aws:personalize:::recipe/aws-user-personalization"
SIMS = "arn:aws:personalize:::recipe/aws-sims"
SIMILAR = "arn:aws:personalize:::recipe/aws-similar-items"
TRENDING = "arn:aws:personalize:::recipe/aws-trending-now"

# (recipe, solutionConfig, words the message must contain)
BAD = {
    "abc": (UP, {"algorithmHyperParameters": {"hidden_dimension": "abc"}},
            ["hidden_dimension", "32", "256"]),
    "1e12": (UP, {"algorithmHyperParameters": {"hidden_dimension": "1e12"}},
             ["hidden_dimension", "integer"]),
    "minus-one": (UP, {"algorithmHyperParameters": {"hidden_dimension": "-1"}},
                  ["hidden_dimension", "32"]),
    "epochs-nan": (UP, {"algorithmHyperParameters": {"epochs": "nan"}}, ["epochs"]),
    "epochs-zero": (UP, {"algorithmHyperParameters": {"epochs": "0"}}, ["epochs", "1"]),
    "bptt-float": (UP, {"algorithmHyperParameters": {"bptt": "4.5"}}, ["bptt", "2", "32"]),
    "recency-yes": (UP, {"algorithmHyperParameters": {"recency_mask": "yes"}},
                    ["recency_mask", "true or false"]),
    "learning-rate-inf": (UP, {"algorithmHyperParameters": {"learning_rate": "inf"}},
                          ["learning_rate"]),
    "percentile-over-one": (UP, {"featureTransformationParameters": {
        "max_user_history_length_percentile": "1.5"}}, ["max_user_history_length_percentile",
                                                        "0", "1"]),
    "percentile-nan": (UP, {"featureTransformationParameters": {
        "min_user_history_length_percentile": "NaN"}}, ["min_user_history_length_percentile"]),
    "threshold-infinite": (UP, {"eventValueThreshold": "Infinity"}, ["eventValueThreshold"]),
    "sims-discount": (SIMS, {"algorithmHyperParameters": {"popularity_discount_factor": "2"}},
                      ["popularity_discount_factor"]),
    "sims-cointeraction": (SIMS, {"algorithmHyperParameters": {
        "min_cointeraction_count": "11"}}, ["min_cointeraction_count", "10"]),
    "similar-dim": (SIMILAR, {"algorithmHyperParameters": {"item_id_hidden_dim": "5000"}},
                    ["item_id_hidden_dim", "200"]),
    "trend-frequency": (TRENDING, {"featureTransformationParameters": {
        "trend_discovery_frequency": "whenever"}}, ["trend_discovery_frequency"]),
    "hpo-range-outside": (UP, {"hpoConfig": {"algorithmHyperParameterRanges": {
        "integerHyperParameterRanges": [{"name": "hidden_dimension", "minValue": 8,
                                         "maxValue": 16}]}}}, ["hidden_dimension", "32"]),
    "hpo-range-reversed": (UP, {"hpoConfig": {"algorithmHyperParameterRanges": {
        "integerHyperParameterRanges": [{"name": "bptt", "minValue": 20,
                                         "maxValue": 4}]}}}, ["bptt", "minValue"]),
    "hpo-unknown-name": (UP, {"hpoConfig": {"algorithmHyperParameterRanges": {
        "continuousHyperParameterRanges": [{"name": "warp", "minValue": 0.1,
                                            "maxValue": 0.2}]}}}, ["warp", "tunable"]),
    "hpo-wrong-kind": (UP, {"hpoConfig": {"algorithmHyperParameterRanges": {
        "continuousHyperParameterRanges": [{"name": "hidden_dimension", "minValue": 40.0,
                                            "maxValue": 50.0}]}}}, ["hidden_dimension"]),
    "hpo-categorical-value": (UP, {"hpoConfig": {"algorithmHyperParameterRanges": {
        "categoricalHyperParameterRanges": [{"name": "recency_mask",
                                             "values": ["true", "maybe"]}]}}},
                              ["recency_mask", "maybe"]),
    "hpo-jobs": (UP, {"hpoConfig": {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "1e3"}}},
                 ["maxNumberOfTrainingJobs", "40"]),
    "hpo-parallel": (UP, {"hpoConfig": {"hpoResourceConfig": {
        "maxParallelTrainingJobs": "-1"}}}, ["maxParallelTrainingJobs", "10"]),
    "hpo-metric": (UP, {"hpoConfig": {"hpoObjective": {"metricName": "accuracy"}}},
                   ["metricName", "precision_at_25"]),
    "hpo-objective-type": (UP, {"hpoConfig": {"hpoObjective": {"type": "Best"}}},
                           ["Maximize"]),
    "automl-recipe": (UP, {"autoMLConfig": {"recipeList": [
        "arn:aws:personalize:::recipe/aws-no-such-recipe"]}}, ["aws-no-such-recipe"]),
    "automl-metric": (UP, {"autoMLConfig": {"metricName": "recall"}}, ["metricName"]),
}


@pytest.fixture(scope="module")
def group(personalize):
    arn = personalize.create_dataset_group(name="hostile-hyperparameters")["datasetGroupArn"]
    ready(lambda: personalize.describe_dataset_group(datasetGroupArn=arn),
          ["datasetGroup", "status"])
    return arn


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_hyperparameters_are_refused_naming_the_parameter(personalize, group, case):
    recipe, config, words = BAD[case]
    with pytest.raises(ClientError) as error:
        personalize.create_solution(name=f"hp-{case}", datasetGroupArn=group,
                                    recipeArn=recipe, solutionConfig=config,
                                    performHPO="hpoConfig" in config)
    assert code(error.value) == "InvalidInputException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = error.value.response["Error"]["Message"]
    assert all(word in message for word in words), message
    names = {s["name"] for s in personalize.list_solutions(datasetGroupArn=group)["solutions"]}
    assert f"hp-{case}" not in names


def test_documented_values_at_the_edges_are_accepted(personalize, group):
    config = {"algorithmHyperParameters": {"hidden_dimension": "256", "bptt": "2",
                                           "recency_mask": "false", "epochs": "1"},
              "featureTransformationParameters": {"min_user_history_length_percentile": "0",
                                                  "max_user_history_length_percentile": "1.0"},
              "eventValueThreshold": "0.5",
              "hpoConfig": {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "40",
                                                  "maxParallelTrainingJobs": "10"},
                            "algorithmHyperParameterRanges": {
                                "integerHyperParameterRanges": [
                                    {"name": "hidden_dimension", "minValue": 32,
                                     "maxValue": 256}],
                                "categoricalHyperParameterRanges": [
                                    {"name": "recency_mask", "values": ["true", "false"]}]}}}
    arn = personalize.create_solution(name="hp-edges", datasetGroupArn=group, recipeArn=UP,
                                      performHPO=True, solutionConfig=config)["solutionArn"]
    stored = personalize.describe_solution(solutionArn=arn)["solution"]["solutionConfig"]
    assert stored["algorithmHyperParameters"] == config["algorithmHyperParameters"]


def test_the_catalogue_ranges_are_the_ones_enforced(personalize, group):
    """DescribeAlgorithm's defaultHyperParameterRanges is the contract: its bounds pass,
    one past them is refused."""
    recipe = personalize.describe_recipe(recipeArn=UP)["recipe"]
    ranges = personalize.describe_algorithm(algorithmArn=recipe["algorithmArn"])[
        "algorithm"]["defaultHyperParameterRanges"]["integerHyperParameterRanges"]
    assert ranges
    for item in ranges:
        for value, accepted in ((item["minValue"], True), (item["maxValue"], True),
                                (item["minValue"] - 1, False), (item["maxValue"] + 1, False)):
            name = f"hp-cat-{item['name'].replace('_', '-')}-{value}"
            config = {"algorithmHyperParameters": {item["name"]: str(value)}}
            if accepted:
                personalize.create_solution(name=name, datasetGroupArn=group, recipeArn=UP,
                                            solutionConfig=config)
            else:
                with pytest.raises(ClientError) as error:
                    personalize.create_solution(name=name, datasetGroupArn=group,
                                                recipeArn=UP, solutionConfig=config)
                assert code(error.value) == "InvalidInputException"
                assert item["name"] in error.value.response["Error"]["Message"]
