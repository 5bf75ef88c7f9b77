"""Running a dataset import job: S3 CSV -> validated, normalised copy in our own store."""
from __future__ import annotations

import logging
import os

from chalicelib.datasets.csv_import import DataImportError, import_csv
from chalicelib.datasets.s3_source import iter_s3_lines
from chalicelib.datasets.schema import parse_schema
from chalicelib.errors import ServiceError, failure_reason
from chalicelib.records import kinds
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
    """Start the job, import, and finish it ACTIVE or CREATE FAILED (its lifecycle:
    chalicelib/records/lifecycle.py, DATASET_IMPORT)."""
    registry, kind = backend.registry, kinds.DATASET_IMPORT_JOB
    job = registry.get(kind, job_arn)
    try:   # the job stays CREATE PENDING behind a dataset that is still being created
        registry.wait_active(kinds.DATASET, job["datasetArn"])
    except ServiceError as error:
        kind.lifecycle.finish(registry, kind, job_arn, kind.lifecycle.failed, str(error))
        return
    kind.lifecycle.run(registry, kind, job_arn, lambda job: _import(backend, job),
                       reason=_failure_reason, expected=(DataImportError, ServiceError))


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, (DataImportError, ServiceError)):
        return error.message
    return failure_reason(error, "The import", "the server log")


def _import(backend, job: dict) -> None:
    """S3 CSV -> validated, normalised copy under the dataset's folder (FULL replaces what
    was imported before; INCREMENTAL adds a file). A failed import leaves nothing
    half-written behind."""
    registry = backend.registry
    dataset = registry.get(kinds.DATASET, job["datasetArn"])
    schema = parse_schema(registry.get(kinds.SCHEMA, dataset["schemaArn"])["schema"])
    folder = backend.artifacts.dataset_dir(dataset["datasetArn"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / import_file_name(job)
    partial = target.with_suffix(PARTIAL_SUFFIX)
    try:
        lines = iter_s3_lines(backend.s3_client(job["datasetImportJobArn"]),
                              job["dataSource"]["dataLocation"])
        with open(partial, "w", encoding="utf-8", newline="") as sink:
            summary = import_csv(lines, schema, dataset["datasetType"], sink)
        if job.get("importMode", "FULL") == "FULL":  # FULL replaces what was imported
            for old in folder.glob("*.csv"):
                old.unlink()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    backend.artifacts.flush()
    log.info("import %s: %s", job["datasetImportJobArn"], summary)
