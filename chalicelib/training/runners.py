"""Where training tasks run, chosen by configuration (Settings.training_runner).

`process`: a child process per solution version (the local form of a container task),
watched by a thread that records a crash as CREATE FAILED with the task's last words.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from chalicelib.resources import kinds
from chalicelib.resources.registry import CREATE_FAILED
from chalicelib.resources.solutions import RUNNING, finish_version
from chalicelib.storage.artifacts import arn_key

log = logging.getLogger(__name__)


def make_runner(backend):
    kind = backend.settings.training_runner
    if kind == "process":
        return ProcessRunner(backend)
    if kind == "ecs":  # deployed: a Fargate task per version (boto3 only when chosen)
        from chalicelib.training.ecs_runner import EcsRunner
        return EcsRunner(backend)
    raise ValueError(f"unknown training runner {kind!r}")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours is not alive
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


class ProcessRunner:
    def __init__(self, backend):
        self.backend = backend
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def log_path(self, arn: str) -> Path:
        folder = self.backend.artifacts.root / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{arn_key(arn)}.log"

    def start(self, arn: str) -> None:
        log_file = open(self.log_path(arn), "wb")
        env = dict(os.environ, PERSONALIZE_DATA_DIR=str(self.backend.settings.data_dir))
        process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.training.task", "--solution-version-arn", arn],
            stdout=log_file, stderr=subprocess.STDOUT, env=env,
            cwd=Path(__file__).resolve().parents[2], start_new_session=True)
        log_file.close()
        with self._lock:
            self._processes[arn] = process
        self.backend.registry.update(kinds.SOLUTION_VERSION, arn,
                                     lambda doc: doc.update(_taskPid=process.pid))
        threading.Thread(target=self._watch, args=(arn, process), daemon=True,
                         name=f"watch-{process.pid}").start()

    def _watch(self, arn: str, process: subprocess.Popen) -> None:
        code = process.wait()
        with self._lock:
            self._processes.pop(arn, None)
        if code != 0:  # the task records its own failures; this catches kills and crashes
            finish_version(self.backend.registry, arn, CREATE_FAILED,
                           self._last_words(arn, code))

    def _last_words(self, arn: str, code: int) -> str:
        try:
            lines = self.log_path(arn).read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        last = lines[-1] if lines else ""
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return f"Training task {how}." + (f" Last output: {last[:500]}" if last else "")

    def stop(self, arn: str) -> None:
        with self._lock:
            process = self._processes.get(arn)
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
        else:  # not started by us (e.g. before a restart): nothing to kill
            finish_version(self.backend.registry, arn, CREATE_FAILED, "stopped")

    def recover(self) -> None:
        """A version left running by a previous server process cannot be watched any more:
        if its task is gone, it failed."""
        for version in self.backend.store.list(kinds.SOLUTION_VERSION.key):
            if version["status"] in RUNNING and not _alive(version.get("_taskPid")):
                finish_version(self.backend.registry, version["solutionVersionArn"],
                               CREATE_FAILED,
                               "Training was interrupted: the endpoint restarted while the "
                               "training task was not running.")
