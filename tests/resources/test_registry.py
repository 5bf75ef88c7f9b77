"""The registry's lifecycles: what settles, what AWS creates ACTIVE at once, and a parent
that is still settling accepted by the step after it (the step's work waits for it)."""
import time

import pytest

from chalicelib.errors import ResourceInUseException, ResourceNotFoundException
from chalicelib.records import kinds
from chalicelib.records.registry import Registry
from chalicelib.storage.sqlite import SqliteDatabase, SqliteResourceStore

PREFIX = "arn:aws:personalize:us-east-1:000000000000"


@pytest.fixture
def registry(tmp_path):
    return Registry(SqliteResourceStore(SqliteDatabase(tmp_path / "state.db")),
                    settle_seconds=0.3)


def test_synchronous_kinds_are_active_at_once_others_settle(registry):
    assert registry.create(kinds.SOLUTION, PREFIX, "s", {})["status"] == "ACTIVE"
    assert registry.create(kinds.SCHEMA, PREFIX, "sc", {})["status"] == "ACTIVE"
    dataset = registry.create(kinds.DATASET, PREFIX, "d", {})
    assert dataset["status"] == "CREATE PENDING"
    with pytest.raises(ResourceInUseException):
        registry.get_active(kinds.DATASET, dataset["datasetArn"])


def test_a_settling_parent_is_usable_and_waited_for(registry):
    arn = registry.create(kinds.DATASET, PREFIX, "d", {})["datasetArn"]
    assert registry.get_usable(kinds.DATASET, arn)["status"] == "CREATE PENDING"
    started = time.monotonic()
    assert registry.wait_active(kinds.DATASET, arn)["status"] == "ACTIVE"
    assert 0.2 < time.monotonic() - started < 2


def test_a_parent_that_will_not_become_active_is_refused(registry):
    arn = registry.create(kinds.DATASET, PREFIX, "d", {})["datasetArn"]
    registry.delete(kinds.DATASET, arn)
    with pytest.raises(ResourceInUseException, match="DELETE PENDING"):
        registry.get_usable(kinds.DATASET, arn)
    job = registry.create(kinds.DATASET_IMPORT_JOB, PREFIX, "j", {})  # a job: does not settle
    registry.update(kinds.DATASET_IMPORT_JOB, job["datasetImportJobArn"],
                    lambda doc: doc.update(status="CREATE FAILED"))
    with pytest.raises(ResourceInUseException, match="CREATE FAILED"):
        registry.wait_active(kinds.DATASET_IMPORT_JOB, job["datasetImportJobArn"])
    with pytest.raises(ResourceNotFoundException):
        registry.wait_active(kinds.DATASET, PREFIX + ":dataset/missing")
