"""Recommenders on a VIDEO_ON_DEMAND dataset group: trained on creation, served by
GetRecommendations with recommenderArn, Stop/Start/Update, and AWS's checks."""
import pytest
from botocore.exceptions import ClientError

from tests.api.builders import build_group, code
from tests.conftest import wait_for

RECIPE = "arn:aws:personalize:::recipe/aws-vod-most-popular"


@pytest.fixture(scope="module")
def setup(personalize, s3):
    return build_group(personalize, s3, "vod", domain="VIDEO_ON_DEMAND",
                       event_types=("Watch",))


def status(personalize, arn):
    return personalize.describe_recommender(recommenderArn=arn)["recommender"]["status"]


def settle(personalize, arn, done):
    return wait_for(lambda: personalize.describe_recommender(recommenderArn=arn),
                    ["recommender", "status"], done=done, timeout=120)


def test_lifecycle_and_serving(personalize, runtime, setup):
    arn = personalize.create_recommender(
        name="most-popular", datasetGroupArn=setup["group"], recipeArn=RECIPE,
        recommenderConfig={"minRecommendationRequestsPerSecond": 2})["recommenderArn"]
    assert settle(personalize, arn, ("ACTIVE", "CREATE FAILED")) == "ACTIVE", \
        personalize.describe_recommender(recommenderArn=arn)
    doc = personalize.describe_recommender(recommenderArn=arn)["recommender"]
    assert doc["recipeArn"] == RECIPE and doc["datasetGroupArn"] == setup["group"]
    assert doc["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 2
    assert "coverage" in doc["modelMetrics"]
    items = runtime.get_recommendations(recommenderArn=arn, userId="u1", numResults=5)
    assert len(items["itemList"]) == 5 and items["recommendationId"]

    listed = personalize.list_recommenders(datasetGroupArn=setup["group"])["recommenders"]
    assert [(r["recommenderArn"], r["status"]) for r in listed] == [(arn, "ACTIVE")]

    personalize.update_recommender(recommenderArn=arn, recommenderConfig={
        "minRecommendationRequestsPerSecond": 3})
    assert settle(personalize, arn, ("ACTIVE",)) == "ACTIVE"
    doc = personalize.describe_recommender(recommenderArn=arn)["recommender"]
    assert doc["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 3
    assert doc["latestRecommenderUpdate"]["status"] == "ACTIVE"

    personalize.stop_recommender(recommenderArn=arn)
    assert status(personalize, arn) in ("STOP PENDING", "STOP IN_PROGRESS", "INACTIVE")
    assert settle(personalize, arn, ("INACTIVE",)) == "INACTIVE"
    with pytest.raises(ClientError) as error:
        runtime.get_recommendations(recommenderArn=arn, userId="u1")
    assert code(error.value) == "InvalidInputException"
    with pytest.raises(ClientError) as error:
        personalize.stop_recommender(recommenderArn=arn)
    assert code(error.value) == "ResourceInUseException"
    personalize.start_recommender(recommenderArn=arn)
    assert settle(personalize, arn, ("ACTIVE",)) == "ACTIVE"
    assert runtime.get_recommendations(recommenderArn=arn, userId="u2")["itemList"]

    personalize.delete_recommender(recommenderArn=arn)
    deadline_status = wait_for(
        lambda: {"s": _status_or_gone(personalize, arn)}, ["s"], done=("GONE",), timeout=10)
    assert deadline_status == "GONE"


def _status_or_gone(personalize, arn):
    try:
        return status(personalize, arn)
    except ClientError as error:
        assert code(error) == "ResourceNotFoundException"
        return "GONE"


def test_checks(personalize, setup):
    custom = personalize.create_dataset_group(name="not-a-domain")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=custom),
             ["datasetGroup", "status"])
    bad = [(custom, RECIPE, "InvalidInputException"),
           (setup["group"], "arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you",
            "InvalidInputException"),
           (setup["group"], "arn:aws:personalize:::recipe/aws-user-personalization",
            "InvalidInputException"),
           (setup["group"] + "-missing", RECIPE, "ResourceNotFoundException")]
    for group, recipe, expected in bad:
        with pytest.raises(ClientError) as error:
            personalize.create_recommender(name="bad", datasetGroupArn=group, recipeArn=recipe)
        assert code(error.value) == expected, recipe
    with pytest.raises(ClientError) as error:
        personalize.describe_recommender(
            recommenderArn="arn:aws:personalize:us-east-1:000000000000:recommender/none")
    assert code(error.value) == "ResourceNotFoundException"
