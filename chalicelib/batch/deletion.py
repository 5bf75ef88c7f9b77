"""Data deletion jobs: remove users' data from a dataset group (imported files, live events,
PutUsers records). Models trained afterwards no longer see them."""
from __future__ import annotations

import csv
import os

from chalicelib.batch.jobs import DELETION_STATUSES, run_job
from chalicelib.errors import InvalidInputException
from chalicelib.resources import kinds

# Dataset types whose rows belong to a user.
USER_DATASETS = ("Interactions", "Users", "Action_Interactions")


def run_data_deletion(backend, job_arn: str) -> None:
    run_job(backend, kinds.DATA_DELETION_JOB, job_arn, lambda job: _delete(backend, job),
            DELETION_STATUSES)


def read_user_ids(backend, location: str, owner_arn: str | None = None) -> set[str]:
    """The job's CSV: one USER_ID column (a header row, as AWS asks for)."""
    from chalicelib.datasets.csv_import import DataImportError, decoded_lines
    from chalicelib.datasets.s3_source import iter_s3_lines
    try:   # not UTF-8: a clear reason naming the line, as for an import
        lines = list(decoded_lines(iter_s3_lines(backend.s3_client(owner_arn), location)))
    except DataImportError as error:
        raise InvalidInputException(str(error)) from None
    rows = csv.reader(lines)
    header = [name.strip().upper() for name in next(rows, [])]
    if "USER_ID" not in header:
        raise InvalidInputException(
            f"The data deletion file {location} needs a USER_ID column header.")
    at = header.index("USER_ID")
    return {row[at].strip() for row in rows if len(row) > at and row[at].strip()}


def remove_users_from_file(path, users: set[str]) -> int:
    """Rewrite a normalised import file without the users' rows; returns rows removed."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        rows = list(reader)
    if header is None or "USER_ID" not in header:
        return 0
    at = header.index("USER_ID")
    kept = [row for row in rows if row[at] not in users]
    if len(kept) == len(rows):
        return 0
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(kept)
    os.replace(partial, path)   # readers see the old file or the new one, never half
    return len(rows) - len(kept)


def _delete(backend, job: dict) -> dict:
    from chalicelib.training.data_loading import group_datasets
    users = read_user_ids(backend, job["dataSource"]["dataLocation"],
                          job["dataDeletionJobArn"])
    datasets = group_datasets(backend.registry, job["datasetGroupArn"])
    deleted = 0
    for kind in USER_DATASETS:
        if kind in datasets:
            directory = backend.artifacts.dataset_dir(datasets[kind]["datasetArn"])
            for path in sorted(directory.glob("*.csv")):
                deleted += remove_users_from_file(path, users)
    records = [datasets["Users"]["datasetArn"]] if "Users" in datasets else []
    deleted += backend.events.delete_user_data(job["datasetGroupArn"], users, records)
    return {"numDeleted": deleted}
