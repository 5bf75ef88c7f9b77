"""After a restart: resubmit batch jobs a previous process left pending or running (their
work is idempotent: outputs are rewritten whole)."""
from __future__ import annotations

import logging

from chalicelib.batch.deletion import run_data_deletion
from chalicelib.batch.export import run_dataset_export
from chalicelib.batch.inference import run_batch_inference, run_batch_segment
from chalicelib.records import kinds

log = logging.getLogger(__name__)


def _runners():
    return [(kinds.BATCH_INFERENCE_JOB, run_batch_inference),
            (kinds.BATCH_SEGMENT_JOB, run_batch_segment),
            (kinds.DATASET_EXPORT_JOB, run_dataset_export),
            (kinds.DATA_DELETION_JOB, run_data_deletion)]


def resume_batch_jobs(tasks) -> None:
    for kind, function in _runners():
        lifecycle = kind.lifecycle
        for job in tasks.backend.registry.list_all(
                kind, lambda doc: doc["status"] in (lifecycle.pending, lifecycle.running)):
            log.info("resuming %s %s", kind.label.lower(), job[kind.arn_field])
            tasks.submit_batch(function, job[kind.arn_field])
