"""One contract, every backend: SQLite (embedded) and DynamoDB (moto's standalone server)."""
import threading
import uuid

import boto3
import pytest

from chalicelib.storage.base import AlreadyExists
from chalicelib.storage.dynamodb import DynamoEventStore, DynamoResourceStore, create_table
from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore, SqliteResourceStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def stores(request, tmp_path):
    if request.param == "sqlite":
        database = SqliteDatabase(tmp_path / "db.sqlite3")
        return SqliteResourceStore(database), SqliteEventStore(database)
    server = request.getfixturevalue("moto_server")
    dynamodb = boto3.resource("dynamodb", endpoint_url=server.endpoint_url,
                              region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
    table = create_table(dynamodb, f"t-{uuid.uuid4().hex[:8]}")
    return DynamoResourceStore(table), DynamoEventStore(table)


ARN = "arn:aws:personalize:us-east-1:000000000000:dataset-group/"


def test_create_get_list_delete(stores):
    resources, _ = stores
    resources.create("dataset-group", ARN + "a", {"name": "a", "creationDateTime": 1.0})
    resources.create("dataset-group", ARN + "b", {"name": "b", "creationDateTime": 2.0})
    with pytest.raises(AlreadyExists):
        resources.create("dataset-group", ARN + "a", {"name": "a2"})
    assert resources.get("dataset-group", ARN + "a")["name"] == "a"
    assert resources.get("schema", ARN + "a") is None
    assert [d["name"] for d in resources.list("dataset-group", ARN)] == ["a", "b"]
    assert resources.list("dataset-group", "arn:aws:personalize:eu-west-1:") == []
    resources.delete("dataset-group", ARN + "a")
    assert resources.get("dataset-group", ARN + "a") is None


def test_update_is_atomic_under_concurrency(stores):
    resources, _ = stores
    resources.create("counter", ARN + "c", {"n": 0})

    def bump():
        for _ in range(10):
            resources.update("counter", ARN + "c", lambda d: {**d, "n": d["n"] + 1})
    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert resources.get("counter", ARN + "c")["n"] == 40
    assert resources.update("counter", ARN + "missing", lambda d: d) is None


def test_exactly_one_concurrent_creator_wins(stores):
    resources, _ = stores
    wins = []

    def create(i):
        try:
            resources.create("filter", ARN + "race", {"by": i})
            wins.append(i)
        except AlreadyExists:
            pass
    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_events_sequence_users_and_sessions(stores):
    _, events = stores
    group = ARN + "g"
    events.append_events(group, [{"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1}])
    events.append_events(group, [{"USER_ID": None, "SESSION_ID": "s9", "ITEM_ID": "i2",
                                  "TIMESTAMP": 2}])
    last = events.append_events(group, [{"USER_ID": "u1", "ITEM_ID": "i3", "TIMESTAMP": 3}])
    assert last == events.last_seq(group) == 3
    assert [e["ITEM_ID"] for e in events.user_events(group, "u1")] == ["i1", "i3"]
    assert [e["ITEM_ID"] for e in events.user_events(group, "u1", after_seq=1)] == ["i3"]
    events.relabel_session(group, "s9", "u2")
    assert [e["ITEM_ID"] for e in events.user_events(group, "u2")] == ["i2"]
    assert [e["SEQ"] for e in events.events(group)] == [1, 2, 3]
    assert events.last_seq(ARN + "other") == 0


def test_concurrent_put_events_are_all_stored_in_sequence(stores):
    """Calls waiting together share a write (group commit on either store): every event is
    stored once, the sequence has no gap, each caller gets its own last number."""
    _, events = stores
    group = ARN + "concurrent"
    answers = []

    def caller(n):
        for k in range(6):
            rows = [{"USER_ID": f"u{n}", "SESSION_ID": f"s{n}", "ITEM_ID": f"{n}-{k}-{j}"}
                    for j in range(3)]
            answers.append(events.append_user_events(group, rows, f"s{n}", f"u{n}"))
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = events.events(group)
    assert [row["SEQ"] for row in stored] == list(range(1, 6 * 6 * 3 + 1))
    assert sorted(answers) == sorted(set(answers)) and max(answers) == 6 * 6 * 3
    for n in range(6):
        assert [row["ITEM_ID"] for row in events.user_events(group, f"u{n}")] == \
            [f"{n}-{k}-{j}" for k in range(6) for j in range(3)]


def test_identifying_a_session_takes_its_earlier_anonymous_events_only(stores):
    _, events = stores
    group = ARN + "sessions"
    events.append_events(group, [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "before"}])
    events.append_user_events(group, [{"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "known"}],
                              "s", "u")
    events.append_events(group, [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "after"}])
    assert [row["ITEM_ID"] for row in events.user_events(group, "u")] == ["before", "known"]
    events.relabel_session(group, "s", "u")
    assert [row["ITEM_ID"] for row in events.user_events(group, "u")] == \
        ["before", "known", "after"]


def test_dynamodb_batch_keeps_the_order_of_its_calls(moto_server):
    """Three calls flushed as one batch behave as if they ran one after another: the
    identified call takes the anonymous event before it, not the one after it."""
    from chalicelib.storage.dynamodb import _Append
    from chalicelib.storage.group_commit import Pending
    dynamodb = boto3.resource("dynamodb", endpoint_url=moto_server.endpoint_url,
                              region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
    events = DynamoEventStore(create_table(dynamodb, f"t-{uuid.uuid4().hex[:8]}"))
    group = ARN + "batch"
    events.append_events(group, [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "stored"}])
    batch = [Pending(_Append(group, [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "a1"}])),
             Pending(_Append(group, [{"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "u1"}],
                             ("s", "u"))),
             Pending(_Append(group, [{"USER_ID": None, "SESSION_ID": "s", "ITEM_ID": "a2"}]))]
    events._appends._flush(batch)
    assert [p.result for p in batch] == [2, 3, 4]
    assert [row["ITEM_ID"] for row in events.user_events(group, "u")] == ["stored", "a1", "u1"]
    assert [(row["ITEM_ID"], row["USER_ID"]) for row in events.events(group)] == [
        ("stored", "u"), ("a1", "u"), ("u1", "u"), ("a2", None)]
    events.relabel_session(group, "s", "v")
    assert [row["ITEM_ID"] for row in events.user_events(group, "v")] == ["a2"]


def test_records_latest_wins(stores):
    _, events = stores
    dataset = "arn:aws:personalize:us-east-1:000000000000:dataset/g/ITEMS"
    events.upsert_records(dataset, "ITEM_ID", [{"ITEM_ID": "a", "GENRE": "x"}])
    events.upsert_records(dataset, "ITEM_ID", [{"ITEM_ID": "a", "GENRE": "y"},
                                               {"ITEM_ID": "b", "GENRE": "z"}])
    records = {r["ITEM_ID"]: r["GENRE"] for r in events.records(dataset)}
    assert records == {"a": "y", "b": "z"}
