"""delete_user_data (data deletion jobs) on both event stores: the users' interactions,
action interactions and records go; everyone else's stay."""
import uuid

import boto3
import pytest
from moto import mock_aws

from chalicelib.storage.dynamodb import DynamoEventStore, create_table
from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/g"
USERS = "arn:aws:personalize:us-east-1:000000000000:dataset/g/USERS"


@pytest.fixture(params=["sqlite", "dynamodb"])
def events(request, tmp_path):
    if request.param == "sqlite":
        yield SqliteEventStore(SqliteDatabase(tmp_path / "db.sqlite3"))
        return
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        yield DynamoEventStore(create_table(dynamodb, f"t-{uuid.uuid4().hex[:8]}"))


def test_delete_user_data(events):
    events.append_events(GROUP, [{"USER_ID": u, "ITEM_ID": i, "TIMESTAMP": 1.0}
                                 for u, i in [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")]])
    events.append_events(GROUP + "#action-interactions",
                         [{"USER_ID": "a", "ACTION_ID": "x", "TIMESTAMP": 1.0}])
    events.upsert_records(USERS, "USER_ID", [{"USER_ID": "a"}, {"USER_ID": "b"}])
    deleted = events.delete_user_data(GROUP, {"a", "c"}, [USERS])
    assert deleted == 5   # 3 interactions, 1 action interaction, 1 record
    assert [(e["USER_ID"], e["ITEM_ID"]) for e in events.events(GROUP)] == [("b", "2")]
    assert events.user_events(GROUP, "a") == []
    assert events.events(GROUP + "#action-interactions") == []
    assert events.records(USERS) == [{"USER_ID": "b"}]
