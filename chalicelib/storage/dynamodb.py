"""DynamoDB backend for the serverless stages (Lambda has no disk that lasts).

One table, keys `pk` (partition) and `sk` (sort):
  R#<kind>            / <arn>        resource records (doc JSON, version for optimistic locks)
  E#<group>           / <seq>        every live event of a dataset group, in order
  U#<group>#<user>    / <seq>        the same event, indexed by user
  S#<group>#<session> / <seq>        anonymous events, indexed by session
  C#<group>           / counter      the event sequence (atomic ADD)
  D#<dataset>         / <id>         PutItems / PutUsers / PutActions records
"""
from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.storage.base import AlreadyExists, Doc, EventStore, ResourceStore
from chalicelib.storage.group_commit import Pending, WriteBatcher

TABLE_KEYS = [{"AttributeName": "pk", "KeyType": "HASH"},
              {"AttributeName": "sk", "KeyType": "RANGE"}]
TABLE_ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"}]


def create_table(dynamodb, name: str):
    """For tests and the LocalStack deploy script; CloudFormation creates it on AWS."""
    table = dynamodb.create_table(TableName=name, KeySchema=TABLE_KEYS,
                                  AttributeDefinitions=TABLE_ATTRIBUTES,
                                  BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()
    return table


def _seq_key(seq: int) -> str:
    return f"{seq:020d}"  # sort keys are strings: pad so they sort as numbers


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _query(table, pk: str, after: str = "", prefix: str = "",
           descending: bool = False, limit: int | None = None) -> list[dict]:
    condition = Key("pk").eq(pk)
    if prefix:
        condition &= Key("sk").begins_with(prefix)
    elif after:
        condition &= Key("sk").gt(after)
    args = {"KeyConditionExpression": condition, "ScanIndexForward": not descending}
    items = []
    while True:
        if limit:
            args["Limit"] = limit - len(items)
        page = table.query(**args)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page or (limit and len(items) >= limit):
            return items
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoResourceStore(ResourceStore):
    def __init__(self, table):
        self.table = table

    def create(self, kind, arn, doc):
        try:
            self.table.put_item(
                Item={"pk": f"R#{kind}", "sk": arn, "doc": json.dumps(doc), "version": 0,
                      "created": str(doc.get("creationDateTime", 0))},
                ConditionExpression="attribute_not_exists(sk)")
        except ClientError as error:
            if _conditional_failed(error):
                raise AlreadyExists(arn) from None
            raise

    def _item(self, kind, arn):
        return self.table.get_item(Key={"pk": f"R#{kind}", "sk": arn},
                                   ConsistentRead=True).get("Item")

    def get(self, kind, arn):
        item = self._item(kind, arn)
        return json.loads(item["doc"]) if item else None

    def put(self, kind, arn, doc):
        self.table.put_item(Item={"pk": f"R#{kind}", "sk": arn, "doc": json.dumps(doc),
                                  "version": int(time.time() * 1e6),
                                  "created": str(doc.get("creationDateTime", 0))})

    def update(self, kind, arn, change: Callable[[Doc], Doc | None]):
        while True:  # optimistic concurrency: retry when another writer got in first
            item = self._item(kind, arn)
            if item is None:
                return None
            current = json.loads(item["doc"])
            new = change(json.loads(item["doc"]))
            if new is None:
                return current
            try:
                self.table.put_item(
                    Item={**item, "doc": json.dumps(new), "version": item["version"] + 1},
                    ConditionExpression="version = :seen",
                    ExpressionAttributeValues={":seen": item["version"]})
                return new
            except ClientError as error:
                if not _conditional_failed(error):
                    raise

    def delete(self, kind, arn):
        self.table.delete_item(Key={"pk": f"R#{kind}", "sk": arn})

    def list(self, kind, arn_prefix=""):
        items = _query(self.table, f"R#{kind}", prefix=arn_prefix)
        docs = [json.loads(item["doc"]) for item in items]
        return sorted(docs, key=lambda d: (d.get("creationDateTime", 0)))


@dataclass
class _Append:
    group: str
    rows: list[Doc]
    session_user: tuple[str, str] | None = None   # (session, user): relabel the session


class _BatchedAppends(WriteBatcher):
    """The PutEvents calls waiting together (threads of one process: the embedded server on
    this store, or a container) become one counter ADD per dataset group and one stream of
    BatchWriteItem calls (25 items each), instead of a counter call and a batch per call.
    Callers are answered after every item is written (batch_writer resends unprocessed
    items), in the order of the sequence numbers they were given."""

    def __init__(self, store: "DynamoEventStore"):
        super().__init__(name="dynamodb-group-commit")
        self.store = store

    def _flush(self, batch: list[Pending]) -> None:
        table, appends = self.store.table, [pending.work for pending in batch]
        # The anonymous events stored before this batch, for every session a call of it
        # identifies: read first, so that a later anonymous call of the batch is not taken.
        stored = {}
        for append in appends:
            if append.session_user is not None:
                key = (append.group, append.session_user[0])
                if key not in stored:
                    stored[key] = _query(table, f"S#{key[0]}#{key[1]}")
        counts = Counter()
        for append in appends:
            counts[append.group] += len(append.rows)
        seqs = {group: iter(self.store._next_seqs(group, count))
                for group, count in counts.items() if count}
        events, anonymous, relabelled = [], defaultdict(list), []
        for pending, append in zip(batch, appends):
            last = None
            for row in append.rows:
                last = next(seqs[append.group])
                event = (append.group, last, dict(row))
                events.append(event)
                if not row.get("USER_ID") and row.get("SESSION_ID"):
                    anonymous[(append.group, row["SESSION_ID"])].append(event)
            if append.session_user is not None:   # as if the calls ran one after another
                session, user = append.session_user
                for _, _, row in anonymous.pop((append.group, session), []):
                    row["USER_ID"] = user
                relabelled += [(append.group, user, item)
                               for item in stored.pop((append.group, session), [])]
            pending.result = last
        with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
            for group, seq, row in events:
                _put_event(writer, group, _seq_key(seq), json.dumps(row), row)
            for group, user, item in relabelled:
                body = json.dumps({**json.loads(item["doc"]), "USER_ID": user})
                writer.put_item(Item={"pk": f"U#{group}#{user}", "sk": item["sk"],
                                      "doc": body})
                writer.put_item(Item={"pk": f"E#{group}", "sk": item["sk"], "doc": body})
                writer.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def _put_event(writer, group: str, key: str, body: str, row: Doc) -> None:
    """An event into the group's log and into its user's (or anonymous session's) index."""
    writer.put_item(Item={"pk": f"E#{group}", "sk": key, "doc": body})
    if row.get("USER_ID"):
        writer.put_item(Item={"pk": f"U#{group}#{row['USER_ID']}", "sk": key, "doc": body})
    elif row.get("SESSION_ID"):
        writer.put_item(Item={"pk": f"S#{group}#{row['SESSION_ID']}", "sk": key,
                              "doc": body})


class DynamoEventStore(EventStore):
    def __init__(self, table):
        self.table = table
        self._appends = _BatchedAppends(self)

    def _next_seqs(self, group: str, count: int) -> range:
        result = self.table.update_item(
            Key={"pk": f"C#{group}", "sk": "counter"}, UpdateExpression="ADD seq :n",
            ExpressionAttributeValues={":n": count}, ReturnValues="UPDATED_NEW")
        last = int(result["Attributes"]["seq"])
        return range(last - count + 1, last + 1)

    def append_events(self, dataset_group_arn, rows: Iterable[Doc]) -> int:
        rows = list(rows)
        if not rows:
            return self.last_seq(dataset_group_arn)
        return self._appends.submit(_Append(dataset_group_arn, rows))

    def append_user_events(self, dataset_group_arn, rows, session_id, user_id) -> int:
        last = self._appends.submit(_Append(dataset_group_arn, list(rows),
                                            (session_id, user_id)))
        return last if last is not None else self.last_seq(dataset_group_arn)

    @staticmethod
    def _rows(items) -> list[Doc]:
        return [{**json.loads(item["doc"]), "SEQ": int(item["sk"])} for item in items]

    def user_events(self, dataset_group_arn, user_id, after_seq=0, limit=500):
        items = _query(self.table, f"U#{dataset_group_arn}#{user_id}",
                       after=_seq_key(after_seq), descending=True, limit=limit)
        return [r for r in self._rows(items) if r["SEQ"] > after_seq][::-1]

    def events(self, dataset_group_arn, after_seq=0):
        return self._rows(_query(self.table, f"E#{dataset_group_arn}",
                                 after=_seq_key(after_seq)))

    def last_seq(self, dataset_group_arn):
        item = self.table.get_item(Key={"pk": f"C#{dataset_group_arn}", "sk": "counter"},
                                   ConsistentRead=True).get("Item")
        return int(item["seq"]) if item else 0

    def relabel_session(self, dataset_group_arn, session_id, user_id):
        self._appends.submit(_Append(dataset_group_arn, [], (session_id, user_id)))

    def upsert_records(self, dataset_arn, id_field, rows):
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for row in rows:
                batch.put_item(Item={"pk": f"D#{dataset_arn}", "sk": str(row[id_field]),
                                     "doc": json.dumps(row), "at": str(time.time())})

    def records(self, dataset_arn):
        items = _query(self.table, f"D#{dataset_arn}")
        return [json.loads(i["doc"]) for i in sorted(items, key=lambda i: float(i["at"]))]

    def delete_dataset_group_data(self, dataset_group_arn):
        for item in _query(self.table, f"E#{dataset_group_arn}"):
            self.table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})

    def delete_user_data(self, dataset_group_arn, user_ids, dataset_arns=()):
        deleted = 0
        for group in (dataset_group_arn, dataset_group_arn + "#action-interactions"):
            for user in user_ids:
                for item in _query(self.table, f"U#{group}#{user}"):
                    self.table.delete_item(Key={"pk": f"E#{group}", "sk": item["sk"]})
                    self.table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
                    deleted += 1
        for dataset in dataset_arns:
            for user in user_ids:
                gone = self.table.delete_item(Key={"pk": f"D#{dataset}", "sk": str(user)},
                                              ReturnValues="ALL_OLD")
                deleted += 1 if gone.get("Attributes") else 0
        return deleted
