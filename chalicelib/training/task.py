"""The training task: `python -m chalicelib.training.task --solution-version-arn ARN`.

Runs as its own process (locally) or container (ECS): reads the dataset group's data from
the store and trains the recipe's model once (FULL) or updates it (UPDATE). A FULL
training follows AWS's metrics protocol: the model is trained on the training users only and
scored on the test users it never saw (chalicelib/training/evaluation.py), so one training
gives the version both its model and its metrics. Then it writes the model artifact and
marks the version ACTIVE; any failure marks it CREATE FAILED with a reason written for the user (the traceback goes to the task log).

The log gets a progress line within moments of the start and then every few seconds
(chalicelib/training/task_log.py): only light modules are imported before the first line,
and torch and numpy after the process has taken its CPU priority and its thread grant
(chalicelib/training/cores.py), so that every thread they start inherits both. The training
itself is chalicelib/training/version_training.py.
"""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from chalicelib.training import cores, task_log
from chalicelib.training.user_histories import HISTORY_FILE, user_histories  # noqa: F401 (old home)

log = logging.getLogger("chalicelib.training")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solution-version-arn", required=True)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    cores.lower_priority()   # before any thread exists: every later thread inherits it
    threads = cores.granted_threads()
    task_progress = task_log.TaskLog(log.info).start()
    task_progress.phase("starting", threads=threads)
    task_progress.context(threads=cores.apply_threads(threads))  # as torch now has them
    from chalicelib.backend import build_backend
    from chalicelib.config import Settings
    from chalicelib.resources.registry import CREATE_FAILED
    from chalicelib.resources.solutions import finish_version
    from chalicelib.errors import failure_reason
    from chalicelib.training.version_training import train_version
    overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    backend = build_backend(Settings.from_env(**overrides), with_tasks=False)
    try:
        train_version(backend, args.solution_version_arn)
    except Exception as error:
        traceback.print_exc()   # the task log has the details; the reason is for users
        task_progress.phase("failed")
        finish_version(backend.registry, args.solution_version_arn, CREATE_FAILED,
                       failure_reason(error, "Training", "the training task's log"))
        return 1
    finally:
        task_progress.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
