"""Running a dataset import job: S3 CSV -> validated, normalised copy in our own store."""
from __future__ import annotations

import logging
import os

from chalicelib.datasets.csv_import import DataImportError, import_csv
from chalicelib.datasets.s3_source import iter_s3_lines
from chalicelib.datasets.schema import parse_schema
from chalicelib.errors import ServiceError, failure_reason
from chalicelib.resources import kinds
from chalicelib.resources.registry import (ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS,
                                           CREATE_PENDING)
from chalicelib.storage.artifacts import arn_key

log = logging.getLogger(__name__)


def import_file_name(job: dict) -> str:
    """Files sort in job order, so later imports win for items and users."""
    return f"{int(job['creationDateTime'] * 1000):015d}-{arn_key(job['datasetImportJobArn'])}.csv"


PARTIAL_SUFFIX = ".partial"


def remove_partial_files(artifacts) -> int:
    """At startup: files half-written by imports (or data deletions) that a crash or kill
    interrupted; the resumed jobs write theirs again. Returns how many were removed."""
    removed = 0
    for path in (artifacts.root / "datasets").glob(f"*/*{PARTIAL_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def run_import_job(backend, job_arn: str) -> None:
    registry = backend.registry
    job = registry.get(kinds.DATASET_IMPORT_JOB, job_arn)
    try:   # the job stays CREATE PENDING behind a dataset that is still being created
        dataset = registry.wait_active(kinds.DATASET, job["datasetArn"])
    except ServiceError as error:
        _fail(registry, job_arn, str(error))
        return
    job = registry.update(kinds.DATASET_IMPORT_JOB, job_arn, _start)
    if job["status"] != CREATE_IN_PROGRESS:
        return
    partial = None
    try:
        schema = parse_schema(registry.get(kinds.SCHEMA, dataset["schemaArn"])["schema"])
        folder = backend.artifacts.dataset_dir(dataset["datasetArn"])
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / import_file_name(job)
        partial = target.with_suffix(PARTIAL_SUFFIX)
        lines = iter_s3_lines(backend.s3_client(job_arn), job["dataSource"]["dataLocation"])
        with open(partial, "w", encoding="utf-8", newline="") as sink:
            summary = import_csv(lines, schema, dataset["datasetType"], sink)
        if job.get("importMode", "FULL") == "FULL":  # FULL replaces what was imported
            for old in folder.glob("*.csv"):
                old.unlink()
        os.replace(partial, target)
        backend.artifacts.flush()
        log.info("import %s: %s", job_arn, summary)
        registry.update(kinds.DATASET_IMPORT_JOB, job_arn,
                        lambda doc: doc.update(status=ACTIVE))
    except (DataImportError, ServiceError) as error:
        _fail(registry, job_arn, error.message)
    except Exception as error:  # never leave a job IN_PROGRESS
        log.exception("import %s crashed", job_arn)
        _fail(registry, job_arn, failure_reason(error, "The import", "the server log"))
    finally:   # a failed import leaves nothing half-written behind
        if partial is not None:
            partial.unlink(missing_ok=True)


def _start(doc):
    if doc["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS):
        doc["status"] = CREATE_IN_PROGRESS


def _fail(registry, job_arn, reason):
    registry.update(kinds.DATASET_IMPORT_JOB, job_arn,
                    lambda doc: doc.update(status=CREATE_FAILED, failureReason=reason))
