"""Work that outlives a request: dataset imports and batch jobs (a thread pool in this
process) and training (a separate task process locally, an ECS task when deployed).
Training tasks, batch inference and batch segment jobs draw threads from one core
scheduler (chalicelib/training/cores.py)."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from chalicelib.resources import kinds
from chalicelib.resources.registry import CREATE_IN_PROGRESS, CREATE_PENDING

log = logging.getLogger(__name__)


class Tasks:
    def __init__(self, backend):
        self.backend = backend
        self._imports = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import")
        from chalicelib.training.cores import CoreScheduler, training_cores
        from chalicelib.training.runners import make_runner
        settings = backend.settings
        self.cores = CoreScheduler(
            training_cores(settings.training_cores, settings.serving_reserved_cores),
            settings.training_gather_seconds)
        self.training = make_runner(backend, self.cores)

    def submit_import(self, job_arn: str) -> None:
        from chalicelib.datasets.import_job import run_import_job
        self._imports.submit(_logged, run_import_job, self.backend, job_arn)

    def submit_batch(self, function, *args) -> None:
        """Other background jobs (batch inference, exports, deletions): same pool. Batch
        inference and segment jobs score every input with the models and wait for a core
        first; they run in this process, on its serving threads (at most that many)."""
        from chalicelib.batch.inference import SCORING_JOBS
        if function not in SCORING_JOBS:
            self._imports.submit(_logged, function, self.backend, *args)
            return
        key = f"{function.__name__}:{args[0]}"

        def run(_threads: int) -> None:
            self._imports.submit(self._scoring_job, key, function, *args)
        self.cores.submit(key, run, max_threads=self.backend.settings.serving_threads)

    def _scoring_job(self, key: str, function, *args) -> None:
        try:
            _logged(function, self.backend, *args)
        finally:
            self.cores.release(key)

    def start_training(self, solution_version_arn: str) -> None:
        self.training.start(solution_version_arn)

    def stop_training(self, solution_version_arn: str) -> None:
        self.training.stop(solution_version_arn)

    def recover(self) -> None:
        """After a restart: resume interrupted imports, settle interrupted training."""
        from chalicelib.datasets.import_job import remove_partial_files
        if removed := remove_partial_files(self.backend.artifacts):
            log.info("removed %d half-written import file(s)", removed)
        for job in self.backend.store.list(kinds.DATASET_IMPORT_JOB.key):
            if job["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS):
                log.info("resuming import %s", job["datasetImportJobArn"])
                self.submit_import(job["datasetImportJobArn"])
        self.training.recover()
        from chalicelib.batch.recovery import resume_batch_jobs
        resume_batch_jobs(self)


def _logged(function, *args):
    try:
        function(*args)
    except Exception:  # the job records its own failure; this keeps the pool alive
        log.exception("background job failed")
