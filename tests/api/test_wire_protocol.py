"""The wire layer through a real boto3 client: shapes, validation and AWS errors."""
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError


def _error(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_dataset_group_lifecycle(personalize):
    arn = personalize.create_dataset_group(name="wire-dsg")["datasetGroupArn"]
    assert arn == "arn:aws:personalize:us-east-1:000000000000:dataset-group/wire-dsg"
    group = personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
    assert group["status"] in ("CREATE PENDING", "ACTIVE")
    assert group["creationDateTime"].year >= 2026
    assert not any(key.startswith("_") for key in group)
    names = [g["name"] for g in personalize.list_dataset_groups()["datasetGroups"]]
    assert "wire-dsg" in names


def test_duplicate_name_is_already_exists(personalize):
    personalize.create_dataset_group(name="dup-dsg")
    error = _error(personalize.create_dataset_group, name="dup-dsg")
    assert error["Error"]["Code"] == "ResourceAlreadyExistsException"


def test_missing_resource_is_not_found(personalize):
    error = _error(personalize.describe_dataset_group,
                   datasetGroupArn="arn:aws:personalize:us-east-1:000000000000:dataset-group/nope")
    assert error["Error"]["Code"] == "ResourceNotFoundException"


def test_pattern_violation_is_invalid_input(endpoint):
    client = endpoint.client("personalize")
    client.meta.events.register("before-parameter-build.*", lambda params, **_: None)
    # boto3 validates locally; bypass it to reach the server's own validation.
    client._client_config.parameter_validation = False
    error = _error(client.create_dataset_group, name="bad name!")
    assert error["Error"]["Code"] == "InvalidInputException"
    assert "regular expression" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_paginator_walks_all_pages(personalize):
    for i in range(7):
        personalize.create_dataset_group(name=f"page-{i}")
    pages = personalize.get_paginator("list_dataset_groups").paginate(
        PaginationConfig={"PageSize": 3})
    names = [g["name"] for page in pages for g in page["datasetGroups"]]
    assert {f"page-{i}" for i in range(7)} <= set(names)
    assert len(names) == len(set(names))


def test_unsigned_and_unknown_requests(endpoint):
    request = urllib.request.Request(
        endpoint.url + "/", data=b"{}", method="POST",
        headers={"X-Amz-Target": "AmazonPersonalize.ListDatasetGroups",
                 "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 403
    assert json.loads(caught.value.read())["__type"] == "MissingAuthenticationTokenException"
