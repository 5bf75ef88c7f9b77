"""What the AWS sample-workflow tests (tests/api/test_samples_*.py) share: MovieLens 100K
cut to a few users (AWS's minimums and little more, so training stays quick), CSV files
written as the samples' pandas calls write them, and the samples' polling loops.

The tests follow the call order and parameters of the notebooks in aws-samples/
amazon-personalize-samples; they wait only where a notebook waits (a polling loop or a
sleep), and poll quickly where it does."""
from __future__ import annotations

import csv
import io
import json
import time

from tests.conftest import SHARED_DATA

ROLE = "arn:aws:iam::000000000000:role/PersonalizeRole"
ML = SHARED_DATA / "ml-100k"
GENRES = [line.split("|")[0] for line in (ML / "u.genre").read_text().splitlines() if line]
SCHEMA_NAMESPACE = "com.amazonaws.personalize.schema"


def ratings(users: int = 26, per_user: int = 48) -> list[tuple[str, str, int, int]]:
    """(USER_ID, ITEM_ID, RATING, TIMESTAMP): the first `per_user` ratings of each of the
    first `users` users, time-ordered: 1,150 rows, just over AWS's minimum of 1,000
    interactions from 25 users. (The notebooks keep the ratings above 3 of all 100,000;
    this cut keeps every rating to stay over the minimum.)"""
    rows = []
    for line in (ML / "u.data").read_text().splitlines():
        user, item, rating, when = line.split("\t")
        if int(user) <= users:
            rows.append((user, item, int(rating), int(when)))
    rows.sort(key=lambda row: row[3])
    taken: dict[str, int] = {}
    kept = []
    for row in rows:
        if taken.get(row[0], 0) < per_user:
            taken[row[0]] = taken.get(row[0], 0) + 1
            kept.append(row)
    return kept


def movies() -> list[dict]:
    """ITEM_ID, TITLE, GENRES ('Action|Comedy'), YEAR (0 when unknown) of the movies that
    `ratings()` rates (the catalogue a sample's Items file would hold for that cut)."""
    rated = {item for _, item, _, _ in ratings()}
    out = []
    for line in (ML / "u.item").read_text(encoding="latin-1").splitlines():
        fields = line.split("|")
        if fields[0] not in rated:
            continue
        flags = fields[5:]
        genres = "|".join(g for g, flag in zip(GENRES, flags) if flag == "1") or "unknown"
        year = int(fields[2][-4:]) if fields[2] else 0
        out.append({"ITEM_ID": fields[0], "TITLE": fields[1], "GENRES": genres, "YEAR": year})
    return out


def to_csv(header: list[str], rows, index: bool = True) -> bytes:
    """The bytes pandas' DataFrame.to_csv(path) writes: with its default index=True, an
    unnamed first column of row numbers (AWS's Promotions, Trending-Now and ECOMMERCE
    samples import such files); with index=False just the columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(([""] if index else []) + list(header))
    for number, row in enumerate(rows):
        writer.writerow(([number] if index else []) + list(row))
    return out.getvalue().encode()


def schema(name: str, fields: list[dict]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": SCHEMA_NAMESPACE,
                       "fields": fields, "version": "1.0"})


def upload(s3, bucket: str, key: str, body: bytes) -> str:
    """The samples' boto3 upload_file; the bucket is created on first use."""
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def wait_until(describe, path: list[str], done=("ACTIVE", "CREATE FAILED"),
               timeout: float = 240) -> dict:
    """A notebook's `while time.time() < max_time: ... if status in done: break` loop,
    polling every 50 ms; returns the last Describe answer's resource and asserts it
    reached ACTIVE (with its failureReason when it did not)."""
    deadline = time.time() + timeout
    while True:
        answer = describe()
        resource = answer[path[0]]
        status = resource[path[1]] if len(path) > 1 else resource
        if status in done or time.time() > deadline:
            break
        time.sleep(0.05)
    assert status == "ACTIVE", resource
    return resource


def import_job(personalize, name: str, dataset_arn: str, location: str, **options) -> str:
    """create_dataset_import_job as the samples call it (roleArn from their IAM step)."""
    return personalize.create_dataset_import_job(
        jobName=name, datasetArn=dataset_arn, dataSource={"dataLocation": location},
        roleArn=ROLE, **options)["datasetImportJobArn"]


def import_done(personalize, job_arn: str) -> dict:
    return wait_until(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job_arn), ["datasetImportJob", "status"])


def version_done(personalize, version_arn: str) -> dict:
    return wait_until(lambda: personalize.describe_solution_version(
        solutionVersionArn=version_arn), ["solutionVersion", "status"], timeout=400)


def campaign_done(personalize, campaign_arn: str) -> dict:
    return wait_until(lambda: personalize.describe_campaign(campaignArn=campaign_arn),
                      ["campaign", "status"])


def group_done(personalize, group_arn: str) -> dict:
    return wait_until(lambda: personalize.describe_dataset_group(
        datasetGroupArn=group_arn), ["datasetGroup", "status"])


def item_ids(response: dict) -> list[str]:
    return [entry["itemId"] for entry in response["itemList"]]


def read_json_lines(s3, url: str) -> list[dict]:
    bucket, key = url[len("s3://"):].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]
