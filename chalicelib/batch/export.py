"""Dataset export jobs: a dataset's data as CSV in S3, per ingestion mode.

BULK: what import jobs brought in (our normalised copies); PUT: what came through
personalize-events (PutEvents, PutItems, PutUsers, ...); ALL: both.
"""
from __future__ import annotations

import csv
import io

from chalicelib.batch.jobs import folder, run_job, write_text
from chalicelib.events.provider import ACTION_INTERACTIONS_SUFFIX
from chalicelib.resources import kinds

PART_NAME = "part-00000.csv"


def export_path(job: dict) -> str:
    """<output folder><job name>/part-00000.csv."""
    return f"{folder(job['jobOutput']['s3DataDestination']['path'])}{job['jobName']}/{PART_NAME}"


def run_dataset_export(backend, job_arn: str) -> None:
    run_job(backend, kinds.DATASET_EXPORT_JOB, job_arn, lambda job: _export(backend, job))


def _export(backend, job: dict) -> None:
    from chalicelib.datasets.schema import parse_schema
    dataset = backend.registry.get(kinds.DATASET, job["datasetArn"])
    schema = parse_schema(backend.registry.get(kinds.SCHEMA, dataset["schemaArn"])["schema"])
    names = [f.name for f in schema.fields]
    out = io.StringIO()
    writer = csv.DictWriter(out, names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    mode = job["ingestionMode"]
    if mode in ("BULK", "ALL"):
        for path in sorted(backend.artifacts.dataset_dir(dataset["datasetArn"]).glob("*.csv")):
            with open(path, newline="", encoding="utf-8") as handle:
                writer.writerows(csv.DictReader(handle))
    if mode in ("PUT", "ALL"):
        writer.writerows(_cells(row) for row in live_rows(backend, dataset))
    write_text(backend.s3_client(job["datasetExportJobArn"]), export_path(job), out.getvalue(), "text/csv")


def live_rows(backend, dataset: dict) -> list[dict]:
    kind, group = dataset["datasetType"], dataset["datasetGroupArn"]
    if kind == "Interactions":
        return backend.events.events(group)
    if kind == "Action_Interactions":
        return backend.events.events(group + ACTION_INTERACTIONS_SUFFIX)
    return backend.events.records(dataset["datasetArn"])   # Items, Users, Actions


def _cells(row: dict) -> dict:
    """Whole-second timestamps as integers, as they were sent; None as empty."""
    out = {}
    for name, value in row.items():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out[name] = "" if value is None else value
    return out
