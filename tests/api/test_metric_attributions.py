"""Metric attributions: create (one per dataset group), describe, list, metrics, update,
delete, and the expression checks against the Interactions schema."""
import pytest
from botocore.exceptions import ClientError

from tests.api.builders import ROLE, build_group, code
from tests.conftest import wait_for

OUTPUT = {"roleArn": ROLE, "s3DataDestination": {"path": "s3://metrics-bucket/out/"}}
REVENUE = {"eventType": "click", "metricName": "REVENUE",
           "expression": "SUM(Interactions.EVENT_VALUE)"}
CLICKS = {"eventType": "click", "metricName": "CLICKS", "expression": "SAMPLECOUNT()"}


@pytest.fixture(scope="module")
def group(personalize, s3):
    return build_group(personalize, s3, "metrics")["group"]


def test_lifecycle(personalize, group):
    arn = personalize.create_metric_attribution(
        name="metrics", datasetGroupArn=group, metrics=[REVENUE],
        metricsOutputConfig=OUTPUT)["metricAttributionArn"]
    assert wait_for(lambda: personalize.describe_metric_attribution(
        metricAttributionArn=arn), ["metricAttribution", "status"]) == "ACTIVE"
    doc = personalize.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    assert doc["datasetGroupArn"] == group and doc["metricsOutputConfig"] == OUTPUT
    listed = personalize.list_metric_attributions(datasetGroupArn=group)
    assert [m["metricAttributionArn"] for m in listed["metricAttributions"]] == [arn]
    assert personalize.list_metric_attribution_metrics(
        metricAttributionArn=arn)["metrics"] == [REVENUE]

    with pytest.raises(ClientError) as error:   # one per dataset group
        personalize.create_metric_attribution(name="second", datasetGroupArn=group,
                                              metrics=[CLICKS], metricsOutputConfig=OUTPUT)
    assert code(error.value) == "ResourceAlreadyExistsException"

    personalize.update_metric_attribution(metricAttributionArn=arn, addMetrics=[CLICKS],
                                          removeMetrics=["REVENUE"])
    assert wait_for(lambda: personalize.describe_metric_attribution(
        metricAttributionArn=arn), ["metricAttribution", "status"]) == "ACTIVE"
    page = personalize.list_metric_attribution_metrics(metricAttributionArn=arn,
                                                       maxResults=1)
    assert page["metrics"] == [CLICKS] and "nextToken" not in page

    personalize.delete_metric_attribution(metricAttributionArn=arn)
    status = personalize.describe_metric_attribution(
        metricAttributionArn=arn)["metricAttribution"]["status"]
    assert status == "DELETE PENDING"


@pytest.mark.parametrize("metric", [
    {"eventType": "click", "metricName": "M", "expression": "AVG(Interactions.EVENT_VALUE)"},
    {"eventType": "click", "metricName": "M", "expression": "SUM(Interactions.NOPE)"},
    {"eventType": "click", "metricName": "M", "expression": "SUM(Interactions.EVENT_TYPE)"},
    {"eventType": "click", "metricName": "M", "expression": "SUM(Items.PRICE)"},
])
def test_bad_expressions(personalize, group, metric):
    with pytest.raises(ClientError) as error:
        personalize.create_metric_attribution(name="bad", datasetGroupArn=group,
                                              metrics=[metric], metricsOutputConfig=OUTPUT)
    assert code(error.value) == "InvalidInputException"


def test_missing(personalize):
    with pytest.raises(ClientError) as error:
        personalize.describe_metric_attribution(
            metricAttributionArn="arn:aws:personalize:us-east-1:000000000000:"
                                 "metric-attribution/none")
    assert code(error.value) == "ResourceNotFoundException"
