"""Contextual metadata and optimizationObjective through boto3 over HTTP: an Interactions
schema with a categorical DEVICE field (the device decides the genre), GetRecommendations
and GetPersonalizedRanking with `context`, PutEvents carrying the device in properties,
CreateSolution's checks of optimizationObjective and GetSolutionMetrics'
average_rewards_at_k."""
import json
import random
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import ROLE, code, csv_bytes
from tests.conftest import wait_for

NAME = "context-api"
ITEMS = 40    # i0-i19: genre a, watched on mobile; i20-i39: genre b, watched on tv
SCHEMAS = {
    "Interactions": {"type": "record", "name": "Interactions", "fields": [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "DEVICE", "type": "string", "categorical": True}], "version": "1.0"},
    "Items": {"type": "record", "name": "Items", "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRE", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"},
        {"name": "RATING", "type": ["null", "float"]}], "version": "1.0"},
}
UP = "arn:aws:personalize:::recipe/aws-user-personalization"


def rows():
    rng = random.Random(0)
    interactions = []
    for k in range(1600):
        device = "mobile" if rng.random() < 0.5 else "tv"
        low = 0 if device == "mobile" else ITEMS // 2
        interactions.append((f"u{k % 60}", f"i{rng.randrange(low, low + ITEMS // 2)}",
                             1_700_000_000 + k, device))
    items = [(f"i{n}", "a" if n < ITEMS // 2 else "b", float(n), "") for n in range(ITEMS)]
    return {"Interactions": (["USER_ID", "ITEM_ID", "TIMESTAMP", "DEVICE"], interactions),
            "Items": (["ITEM_ID", "GENRE", "PRICE", "RATING"], items)}


@pytest.fixture(scope="module")
def group(personalize, s3):
    s3.create_bucket(Bucket=NAME)
    arn = personalize.create_dataset_group(name=NAME)["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=arn),
             ["datasetGroup", "status"])
    for dataset_type, (header, data) in rows().items():
        s3.put_object(Bucket=NAME, Key=f"{dataset_type}.csv", Body=csv_bytes(header, data))
        schema = personalize.create_schema(name=f"{NAME}-{dataset_type}",
                                           schema=json.dumps(SCHEMAS[dataset_type]))["schemaArn"]
        dataset = personalize.create_dataset(
            name=f"{NAME}-{dataset_type}", schemaArn=schema, datasetGroupArn=arn,
            datasetType=dataset_type)["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=dataset),
                 ["dataset", "status"])
        job = personalize.create_dataset_import_job(
            jobName=f"{NAME}-{dataset_type}", datasetArn=dataset, roleArn=ROLE,
            dataSource={"dataLocation": f"s3://{NAME}/{dataset_type}.csv"}
        )["datasetImportJobArn"]
        assert wait_for(lambda: personalize.describe_dataset_import_job(
            datasetImportJobArn=job), ["datasetImportJob", "status"]) == "ACTIVE"
    return arn


@pytest.fixture(scope="module")
def version(personalize, group):
    """User-Personalization with an objective (PRICE, LOW): what both halves serve."""
    solution = personalize.create_solution(
        name=NAME, datasetGroupArn=group, recipeArn=UP,
        solutionConfig={"algorithmHyperParameters": {"epochs": "15", "hidden_dimension": "32",
                                                     "early_stopping_patience": "0"},
                        "optimizationObjective": {"itemAttribute": "PRICE",
                                                  "objectiveSensitivity": "LOW"}}
    )["solutionArn"]
    wait_for(lambda: personalize.describe_solution(solutionArn=solution), ["solution", "status"])
    arn = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    status = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=arn),
                      ["solutionVersion", "status"], timeout=240)
    assert status == "ACTIVE", personalize.describe_solution_version(
        solutionVersionArn=arn)["solutionVersion"].get("failureReason")
    return arn


@pytest.fixture(scope="module")
def campaign(personalize, version):
    arn = personalize.create_campaign(
        name=NAME, solutionVersionArn=version,
        campaignConfig={"itemExplorationConfig": {"explorationWeight": "0"}})["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=arn),
                    ["campaign", "status"]) == "ACTIVE"
    return arn


def genre_a_share(runtime, campaign, user, **kwargs) -> float:
    items = [i["itemId"] for i in runtime.get_recommendations(
        campaignArn=campaign, userId=user, numResults=10, **kwargs)["itemList"]]
    assert len(items) == 10
    return sum(int(i[1:]) < ITEMS // 2 for i in items) / len(items)


def test_the_request_context_decides_the_genre(runtime, campaign):
    for user in ("u1", "u2"):
        assert genre_a_share(runtime, campaign, user, context={"DEVICE": "mobile"}) >= 0.8
        assert genre_a_share(runtime, campaign, user, context={"DEVICE": "tv"}) <= 0.2


def test_an_unknown_context_value_or_field_is_answered_as_without_context(runtime, campaign):
    plain = runtime.get_recommendations(campaignArn=campaign, userId="u3",
                                        numResults=10)["itemList"]
    for context in ({"DEVICE": "smart fridge"}, {"WEATHER": "rain"}):
        got = runtime.get_recommendations(campaignArn=campaign, userId="u3", numResults=10,
                                          context=context)["itemList"]
        assert [i["itemId"] for i in got] == [i["itemId"] for i in plain]


def test_live_events_keep_their_context(personalize, events, runtime, campaign, group):
    tracker = personalize.create_event_tracker(name=NAME, datasetGroupArn=group)
    wait_for(lambda: personalize.describe_event_tracker(
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])

    def watch(user, properties):
        events.put_events(trackingId=tracker["trackingId"], userId=user, sessionId=user,
                          eventList=[{"eventType": "watch", "itemId": f"i{25 + n}",
                                      "sentAt": time.time() + n, **properties}
                                     for n in range(3)])

    watch("on-tv", {"properties": json.dumps({"device": "tv"})})
    watch("unknown-device", {})

    def scores(user):
        return [(i["itemId"], round(i["score"], 6)) for i in runtime.get_recommendations(
            campaignArn=campaign, userId=user, numResults=10,
            context={"DEVICE": "tv"})["itemList"]]

    # the same items, one user's with their device: the model reads the history differently
    assert scores("on-tv") != scores("unknown-device")
    assert genre_a_share(runtime, campaign, "on-tv", context={"DEVICE": "tv"}) <= 0.2
    with pytest.raises(ClientError) as error:   # the context field is checked like any other
        watch("on-tv", {"properties": json.dumps({"screen": "tv"})})
    assert code(error.value) == "InvalidInputException"


def test_solution_metrics_report_average_rewards_for_an_objective(personalize, version):
    metrics = personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
    assert 0 < metrics["average_rewards_at_k"] <= 1
    assert "normalized_discounted_cumulative_gain_at_10" in metrics


@pytest.mark.parametrize("config, reason", [
    ({"itemAttribute": "GENRE", "objectiveSensitivity": "HIGH"}, "numerical"),
    ({"itemAttribute": "LENGTH", "objectiveSensitivity": "HIGH"}, "not a column"),
    ({"itemAttribute": "RATING", "objectiveSensitivity": "LOW"}, "null"),
])
def test_the_item_attribute_must_be_a_numerical_items_column(personalize, group, config,
                                                             reason):
    with pytest.raises(ClientError) as error:
        personalize.create_solution(name=f"{NAME}-bad", datasetGroupArn=group, recipeArn=UP,
                                    solutionConfig={"optimizationObjective": config})
    assert code(error.value) == "InvalidInputException"
    assert reason in error.value.response["Error"]["Message"]


def test_an_objective_needs_a_recipe_that_supports_it(personalize, group):
    with pytest.raises(ClientError) as error:
        personalize.create_solution(
            name=f"{NAME}-sims", datasetGroupArn=group,
            recipeArn="arn:aws:personalize:::recipe/aws-similar-items",
            solutionConfig={"optimizationObjective": {"itemAttribute": "PRICE",
                                                      "objectiveSensitivity": "LOW"}})
    assert code(error.value) == "InvalidInputException"
    with pytest.raises(ClientError) as error:   # the enum comes from the service model
        personalize.create_solution(
            name=f"{NAME}-enum", datasetGroupArn=group, recipeArn=UP,
            solutionConfig={"optimizationObjective": {"itemAttribute": "PRICE",
                                                      "objectiveSensitivity": "EXTREME"}})
    assert code(error.value) in ("ValidationException", "InvalidInputException")
