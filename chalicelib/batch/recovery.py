"""After a restart: resubmit batch jobs a previous process left pending or running (their
work is idempotent: outputs are rewritten whole)."""
from __future__ import annotations

import logging

from chalicelib.batch.deletion import run_data_deletion
from chalicelib.batch.export import run_dataset_export
from chalicelib.batch.inference import run_batch_inference, run_batch_segment
from chalicelib.batch.jobs import DELETION_STATUSES, JOB_STATUSES
from chalicelib.resources import kinds

log = logging.getLogger(__name__)


def _runners():
    return [(kinds.BATCH_INFERENCE_JOB, run_batch_inference, JOB_STATUSES),
            (kinds.BATCH_SEGMENT_JOB, run_batch_segment, JOB_STATUSES),
            (kinds.DATASET_EXPORT_JOB, run_dataset_export, JOB_STATUSES),
            (kinds.DATA_DELETION_JOB, run_data_deletion, DELETION_STATUSES)]


def resume_batch_jobs(tasks) -> None:
    for kind, function, statuses in _runners():
        for job in tasks.backend.store.list(kind.key):
            if job["status"] in (statuses.pending, statuses.running):
                log.info("resuming %s %s", kind.label.lower(), job[kind.arn_field])
                tasks.submit_batch(function, job[kind.arn_field])
