"""personalize-runtime through boto3 over HTTP on a small trained campaign: filters (items,
interactions, CurrentUser), PutItems visible at once, metadataColumns, promotions; and
CreateFilter's checks against the dataset group's schemas."""
import json
import random
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import (GENRE_PRICE_ITEMS_SCHEMA, TIER_USERS_SCHEMA, code,
                                csv_bytes)
from tests.conftest import wait_for

GENRES = ["comedy", "drama", "action", "horror"]
SCHEMAS = {
    "Interactions": {"type": "record", "name": "Interactions", "fields": [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],
        "version": "1.0"},
    "Items": GENRE_PRICE_ITEMS_SCHEMA,
    "Users": TIER_USERS_SCHEMA,
}


def synthetic():
    rng = random.Random(0)
    items = [(f"i{n}", GENRES[n % 4], float(n)) for n in range(120)]
    interactions = [(f"u{u}", f"i{rng.randrange(120)}", "click", 1_700_000_000 + k)
                    for k, u in enumerate(rng.randrange(40) for _ in range(2000))]
    users = [(f"u{u}", "gold" if u % 2 else "free") for u in range(40)]
    return {"Interactions": (["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"], interactions),
            "Items": (["ITEM_ID", "GENRE", "PRICE"], items),
            "Users": (["USER_ID", "TIER"], users)}


@pytest.fixture(scope="module")
def deployed(personalize, s3, events):
    s3.create_bucket(Bucket="serving-api")
    group = personalize.create_dataset_group(name="serving-api")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    datasets = {}
    for dataset_type, (header, rows) in synthetic().items():
        s3.put_object(Bucket="serving-api", Key=f"{dataset_type}.csv", Body=csv_bytes(header, rows))
        schema = personalize.create_schema(name=f"serving-api-{dataset_type}",
                                           schema=json.dumps(SCHEMAS[dataset_type]))["schemaArn"]
        arn = datasets[dataset_type] = personalize.create_dataset(
            name=f"serving-api-{dataset_type}", schemaArn=schema, datasetGroupArn=group,
            datasetType=dataset_type)["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=arn), ["dataset", "status"])
        job = personalize.create_dataset_import_job(
            jobName=f"serving-api-{dataset_type}", datasetArn=arn,
            dataSource={"dataLocation": f"s3://serving-api/{dataset_type}.csv"},
            roleArn="arn:aws:iam::000000000000:role/R")["datasetImportJobArn"]
        assert wait_for(lambda: personalize.describe_dataset_import_job(
            datasetImportJobArn=job), ["datasetImportJob", "status"]) == "ACTIVE"
    solution = personalize.create_solution(
        name="serving-api", datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
        solutionConfig={"algorithmHyperParameters": {"epochs": "1"}})["solutionArn"]
    wait_for(lambda: personalize.describe_solution(solutionArn=solution), ["solution", "status"])
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    status = wait_for(lambda: personalize.describe_solution_version(
        solutionVersionArn=version), ["solutionVersion", "status"], timeout=120)
    assert status == "ACTIVE", personalize.describe_solution_version(
        solutionVersionArn=version)["solutionVersion"].get("failureReason")
    campaign = personalize.create_campaign(
        name="serving-api", solutionVersionArn=version,
        campaignConfig={"enableMetadataWithRecommendations": True,
                        "itemExplorationConfig": {"explorationWeight": "0"}})["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign),
                    ["campaign", "status"]) == "ACTIVE"
    tracker = personalize.create_event_tracker(name="serving-api", datasetGroupArn=group)

    def make_filter(name, expression):
        arn = personalize.create_filter(name=f"serving-api-{name}", datasetGroupArn=group,
                                        filterExpression=expression)["filterArn"]
        wait_for(lambda: personalize.describe_filter(filterArn=arn), ["filter", "status"])
        return arn
    return {"group": group, "campaign": campaign, "datasets": datasets,
            "trackingId": tracker["trackingId"], "filter": make_filter}


def genres_of(result):
    return {item["itemId"]: int(item["itemId"][1:]) % 4 for item in result["itemList"]}


def test_recommendations_defaults(runtime, deployed):
    result = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u1")
    assert len(result["itemList"]) == 25 and result["recommendationId"]
    assert len({i["itemId"] for i in result["itemList"]}) == 25
    with pytest.raises(ClientError) as error:
        runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u1",
                                    numResults=501)
    assert code(error.value) == "InvalidInputException"


def test_filter_values_and_put_items_visible_at_once(runtime, events, deployed):
    arn = deployed["filter"]("genre", "INCLUDE ItemID WHERE Items.GENRE IN ($G)")
    result = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u2",
                                         numResults=10, filterArn=arn,
                                         filterValues={"G": '"drama"'})
    assert result["itemList"] and set(genres_of(result).values()) == {1}
    moved = result["itemList"][0]["itemId"]
    events.put_items(datasetArn=deployed["datasets"]["Items"], items=[
        {"itemId": moved, "properties": json.dumps({"genre": "horror", "price": 1})}])
    after = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u2",
                                        numResults=10, filterArn=arn,
                                        filterValues={"G": '"drama"'})
    assert moved not in [i["itemId"] for i in after["itemList"]]


def test_interactions_filter_sees_put_events(runtime, events, deployed):
    arn = deployed["filter"]("unseen",
                             'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    before = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u3",
                                         filterArn=arn)
    bought = before["itemList"][0]["itemId"]
    events.put_events(trackingId=deployed["trackingId"], userId="u3", sessionId="s3",
                      eventList=[{"eventType": "purchase", "itemId": bought,
                                  "sentAt": time.time()}])
    after = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u3",
                                        filterArn=arn)
    assert bought not in [i["itemId"] for i in after["itemList"]]


def test_current_user_filter(runtime, deployed):
    arn = deployed["filter"]("tier", 'INCLUDE ItemID WHERE Items.GENRE IN ("comedy") '
                                     'IF CurrentUser.TIER IN ("gold")')
    gold = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u1",
                                       numResults=10, filterArn=arn)
    assert set(genres_of(gold).values()) == {0}


def test_metadata_columns(runtime, deployed):
    result = runtime.get_recommendations(campaignArn=deployed["campaign"], userId="u4",
                                         numResults=5, metadataColumns={"ITEMS": ["GENRE"]})
    for item in result["itemList"]:
        assert set(item["metadata"]) == {"genre"}


def test_promotion(runtime, deployed):
    promo = deployed["filter"]("promo", 'INCLUDE ItemID WHERE Items.GENRE IN ("action")')
    result = runtime.get_recommendations(
        campaignArn=deployed["campaign"], userId="u5", numResults=10,
        promotions=[{"name": "actions", "percentPromotedItems": 20, "filterArn": promo}])
    promoted = [i for i in result["itemList"] if i.get("promotionName") == "actions"]
    assert len(promoted) == 2 and all(int(i["itemId"][1:]) % 4 == 2 for i in promoted)
    assert len({i["itemId"] for i in result["itemList"]}) == 10


@pytest.mark.parametrize("expression", [
    'INCLUDE ItemID WHERE Items.COLOUR IN ("red")',          # no such field
    'EXCLUDE ItemID WHERE Actions.ACTION_ID IN ("a")',       # no Actions dataset
])
def test_create_filter_checks_schemas(personalize, deployed, expression):
    with pytest.raises(ClientError) as error:
        personalize.create_filter(name="serving-api-bad", datasetGroupArn=deployed["group"],
                                  filterExpression=expression)
    assert code(error.value) == "InvalidInputException"
