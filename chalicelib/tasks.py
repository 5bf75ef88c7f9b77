"""Work that outlives a request: dataset imports (a thread pool in this process) and
training (a separate task process locally, an ECS task when deployed)."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from chalicelib.batch.recovery import resume_batch_jobs
from chalicelib.datasets.import_job import remove_partial_files, run_import_job
from chalicelib.records import kinds
from chalicelib.training.runners import make_runner

log = logging.getLogger(__name__)


class Tasks:
    def __init__(self, backend):
        self.backend = backend
        self._imports = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import")
        self.training = make_runner(backend)

    def submit_import(self, job_arn: str) -> None:
        self._imports.submit(_logged, run_import_job, self.backend, job_arn)

    def submit_batch(self, function, *args) -> None:
        """Other background jobs (batch inference, exports, deletions): same pool."""
        self._imports.submit(_logged, function, self.backend, *args)

    def start_training(self, solution_version_arn: str) -> None:
        self.training.start(solution_version_arn)

    def stop_training(self, solution_version_arn: str) -> None:
        self.training.stop(solution_version_arn)

    def recover(self) -> None:
        """After a restart: resume interrupted imports, settle interrupted training."""
        if removed := remove_partial_files(self.backend.artifacts):
            log.info("removed %d half-written import file(s)", removed)
        for job in self.backend.registry.list_all(
                kinds.DATASET_IMPORT_JOB,
                lambda doc: doc["status"] in kinds.DATASET_IMPORT_JOB.lifecycle.unfinished):
            log.info("resuming import %s", job["datasetImportJobArn"])
            self.submit_import(job["datasetImportJobArn"])
        self.training.recover()
        resume_batch_jobs(self)


def _logged(function, *args):
    try:
        function(*args)
    except Exception:  # the job records its own failure; this keeps the pool alive
        log.exception("background job failed")
