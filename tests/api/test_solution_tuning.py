"""performHPO with hpoConfig (a real optuna search: values within the ranges, the best
trial's values in tunedHPOParams), performAutoML (the better recipe by the metric), and
UpdateSolution's automatic training settings."""
import pytest
from botocore.exceptions import ClientError

from tests.api.builders import build_group, code, train

UP = "arn:aws:personalize:::recipe/aws-user-personalization"
POPULAR = "arn:aws:personalize:::recipe/aws-popularity-count"


@pytest.fixture(scope="module")
def group(personalize, s3):
    return build_group(personalize, s3, "tuning")["group"]


def test_hpo(personalize, group):
    config = {
        "algorithmHyperParameters": {"epochs": "1"},
        "hpoConfig": {
            "hpoObjective": {"type": "Maximize",
                             "metricName": "normalized_discounted_cumulative_gain_at_10"},
            "hpoResourceConfig": {"maxNumberOfTrainingJobs": "2",
                                  "maxParallelTrainingJobs": "1"},
            "algorithmHyperParameterRanges": {
                "integerHyperParameterRanges": [
                    {"name": "hidden_dimension", "minValue": 32, "maxValue": 40}],
                "categoricalHyperParameterRanges": [
                    {"name": "recency_mask", "values": ["true", "false"]}]}}}
    solution, version = train(personalize, group, "hpo", "aws-user-personalization",
                              performHPO=True, solutionConfig=config)
    doc = personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    tuned = doc["tunedHPOParams"]["algorithmHyperParameters"]
    assert 32 <= int(tuned["hidden_dimension"]) <= 40
    assert tuned["recency_mask"] in ("true", "false")
    assert tuned["epochs"] == "1"
    assert doc["performHPO"] is True


def test_automl(personalize, group):
    solution, version = train(
        personalize, group, "automl", None, performAutoML=True,
        solutionConfig={"algorithmHyperParameters": {"epochs": "1"},
                        "autoMLConfig": {"metricName": "precision_at_25",
                                         "recipeList": [UP, POPULAR]}})
    best = personalize.describe_solution(solutionArn=solution)["solution"]["autoMLResult"]
    assert best["bestRecipeArn"] in (UP, POPULAR)
    doc = personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    assert doc["recipeArn"] == best["bestRecipeArn"]


def test_update_solution(personalize, group):
    solution = personalize.create_solution(name="auto", datasetGroupArn=group,
                                           recipeArn=POPULAR)["solutionArn"]
    from tests.conftest import wait_for
    wait_for(lambda: personalize.describe_solution(solutionArn=solution),
             ["solution", "status"])
    personalize.update_solution(solutionArn=solution, performAutoTraining=True,
                                solutionUpdateConfig={"autoTrainingConfig": {
                                    "schedulingExpression": "rate(3 days)"}})
    doc = personalize.describe_solution(solutionArn=solution)["solution"]
    assert doc["performAutoTraining"] is True
    assert doc["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == \
        "rate(3 days)"
    assert doc["latestSolutionUpdate"]["status"] == "ACTIVE"
    for bad in ("rate(31 days)", "cron(0 * * * *)"):
        with pytest.raises(ClientError) as error:
            personalize.update_solution(solutionArn=solution, solutionUpdateConfig={
                "autoTrainingConfig": {"schedulingExpression": bad}})
        assert code(error.value) == "InvalidInputException"
