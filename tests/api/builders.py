"""Small dataset groups for the API tests: AWS's minimums (>= 1000 interactions, >= 25
users) and little more, so training stays quick on two cores."""
from __future__ import annotations

import csv
import io
import json
import random

from botocore.exceptions import ClientError

from tests.conftest import wait_for

ROLE = "arn:aws:iam::000000000000:role/PersonalizeRole"
INTERACTIONS_SCHEMA = {
    "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
               {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"},
               {"name": "EVENT_VALUE", "type": ["null", "float"], "default": None}],
    "version": "1.0"}
ITEMS_SCHEMA = {
    "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "ITEM_ID", "type": "string"},
               {"name": "GENRES", "type": "string", "categorical": True}],
    "version": "1.0"}
GENRES = ["Comedy", "Drama", "Action"]
# Items with a categorical GENRE and a numerical PRICE, Users with a categorical TIER:
# the metadata the events and serving tests write and filter on.
GENRE_PRICE_ITEMS_SCHEMA = {
    "type": "record", "name": "Items", "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRE", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"}], "version": "1.0"}
TIER_USERS_SCHEMA = {
    "type": "record", "name": "Users", "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "TIER", "type": "string", "categorical": True}], "version": "1.0"}


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def interactions(users=30, items=60, count=1200, event_types=("click",), seed=0):
    """Users prefer items of their own third of the catalogue: models have something to
    learn, and popularity differs per item."""
    rng = random.Random(seed)
    rows = []
    for k in range(count):
        user = rng.randrange(users)
        band = user % 3
        item = rng.randrange(band * items // 3, (band + 1) * items // 3) \
            if rng.random() < 0.8 else rng.randrange(items)
        rows.append((f"u{user}", f"i{item}", event_types[k % len(event_types)],
                     1_700_000_000 + k * 60, 1.0))
    return rows


def ready(describe, path, timeout=120):
    status = wait_for(describe, path, timeout=timeout)
    assert status == "ACTIVE", describe()
    return status


def build_group(personalize, s3, name, domain=None, with_items=False, **data) -> dict:
    """A dataset group with imported interactions (and items); returns the ARNs."""
    bucket = f"{name}-data"
    s3.create_bucket(Bucket=bucket)
    args = {"domain": domain} if domain else {}
    group = personalize.create_dataset_group(name=name, **args)["datasetGroupArn"]
    ready(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
          ["datasetGroup", "status"])
    out = {"group": group, "bucket": bucket}
    sources = {"Interactions": (INTERACTIONS_SCHEMA, csv_bytes(
        ["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP", "EVENT_VALUE"],
        interactions(**data)))}
    if with_items:
        items = data.get("items", 60)
        sources["Items"] = (ITEMS_SCHEMA, csv_bytes(
            ["ITEM_ID", "GENRES"], [(f"i{n}", GENRES[n * 3 // items]) for n in range(items)]))
    for dataset_type, (schema, body) in sources.items():
        s3.put_object(Bucket=bucket, Key=f"{dataset_type}.csv", Body=body)
        schema_args = {"domain": domain} if domain else {}
        schema_arn = personalize.create_schema(
            name=f"{name}-{dataset_type}", schema=json.dumps(schema),
            **schema_args)["schemaArn"]
        dataset = personalize.create_dataset(
            name=f"{name}-{dataset_type}", schemaArn=schema_arn, datasetGroupArn=group,
            datasetType=dataset_type)["datasetArn"]
        ready(lambda: personalize.describe_dataset(datasetArn=dataset), ["dataset", "status"])
        job = personalize.create_dataset_import_job(
            jobName=f"{name}-{dataset_type}", datasetArn=dataset, roleArn=ROLE,
            dataSource={"dataLocation": f"s3://{bucket}/{dataset_type}.csv"}
        )["datasetImportJobArn"]
        ready(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
              ["datasetImportJob", "status"])
        out[dataset_type] = dataset
    return out


def train(personalize, group, name, recipe, timeout=240, **solution_args) -> tuple[str, str]:
    """(solution arn, ACTIVE solution version arn)."""
    recipe_args = {"recipeArn": f"arn:aws:personalize:::recipe/{recipe}"} if recipe else {}
    solution = personalize.create_solution(name=name, datasetGroupArn=group, **recipe_args,
                                           **solution_args)["solutionArn"]
    ready(lambda: personalize.describe_solution(solutionArn=solution), ["solution", "status"])
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    ready(lambda: personalize.describe_solution_version(solutionVersionArn=version),
          ["solutionVersion", "status"], timeout=timeout)
    return solution, version


def import_new_items(personalize, s3, arns: dict, job_name: str, rows) -> None:
    """An INCREMENTAL Items import of (ITEM_ID, GENRES) rows into a build_group group."""
    key = f"{job_name}.csv"
    s3.put_object(Bucket=arns["bucket"], Key=key, Body=csv_bytes(["ITEM_ID", "GENRES"], rows))
    job = personalize.create_dataset_import_job(
        jobName=job_name, datasetArn=arns["Items"], roleArn=ROLE, importMode="INCREMENTAL",
        dataSource={"dataLocation": f"s3://{arns['bucket']}/{key}"})["datasetImportJobArn"]
    ready(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
          ["datasetImportJob", "status"])


def read_lines(s3, bucket, key) -> list[dict]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def export(personalize, s3, setup, name, mode=None):
    """A dataset export job of setup["Interactions"] into setup["bucket"], run to ACTIVE:
    (arn, job, rows of its CSV)."""
    args = {"ingestionMode": mode} if mode else {}
    arn = personalize.create_dataset_export_job(
        jobName=name, datasetArn=setup["Interactions"], roleArn=ROLE,
        jobOutput={"s3DataDestination": {"path": f"s3://{setup['bucket']}/exports/"}},
        **args)["datasetExportJobArn"]
    status = wait_for(lambda: personalize.describe_dataset_export_job(
        datasetExportJobArn=arn), ["datasetExportJob", "status"], timeout=60)
    job = personalize.describe_dataset_export_job(datasetExportJobArn=arn)["datasetExportJob"]
    assert status == "ACTIVE", job.get("failureReason")
    body = s3.get_object(Bucket=setup["bucket"],
                         Key=f"exports/{name}/part-00000.csv")["Body"].read().decode()
    return arn, job, list(csv.DictReader(io.StringIO(body)))


def failed_deletion(personalize, s3, setup, name, body: bytes) -> str:
    """A data deletion job over `body` (a CSV) that must end FAILED: its failureReason."""
    key = f"delete/{name}.csv"
    s3.put_object(Bucket=setup["bucket"], Key=key, Body=body)
    arn = personalize.create_data_deletion_job(
        jobName=name, datasetGroupArn=setup["group"], roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{setup['bucket']}/{key}"})["dataDeletionJobArn"]
    assert wait_for(lambda: personalize.describe_data_deletion_job(dataDeletionJobArn=arn),
                    ["dataDeletionJob", "status"], done=("COMPLETED", "FAILED")) == "FAILED"
    return personalize.describe_data_deletion_job(
        dataDeletionJobArn=arn)["dataDeletionJob"]["failureReason"]
