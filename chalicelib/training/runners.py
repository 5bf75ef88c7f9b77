"""Where training tasks run, chosen by configuration (Settings.training_runner).

`process`: a child process per solution version (the local form of a container task),
started when the core scheduler (chalicelib/training/cores.py) grants it threads — until
then the version waits in CREATE PENDING — at a lower CPU priority than the endpoint's
request threads, and watched by a thread that records a crash as CREATE FAILED with the
task's last words.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from chalicelib import task_log
from chalicelib.models.training_history import epoch_line, read_history
from chalicelib.records import kinds
from chalicelib.records.registry import CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING
from chalicelib.records.versions import RUNNING, finish_version
from chalicelib.storage.artifacts import arn_key
from chalicelib.training.cores import NICE_VARIABLE, CoreScheduler, thread_environment
from chalicelib.training.ecs_runner import EcsRunner

log = logging.getLogger(__name__)


def make_runner(backend, cores: CoreScheduler):
    kind = backend.settings.training_runner
    if kind == "process":
        return ProcessRunner(backend, cores)
    if kind == "ecs":  # deployed: a Fargate task per version
        return EcsRunner(backend)
    raise ValueError(f"unknown training runner {kind!r}")


def _alive(pid: int | None, arn: str | None = None) -> bool:
    """Is `pid` a live (not zombie) process, and, where /proc tells, the task for `arn`
    (a pid recorded before a reboot may name another process by now)?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours is not alive
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited != 0:
            return False
    except ChildProcessError:
        pass   # not our child (its server died): /proc below says what it is
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return True   # no /proc here: os.kill's answer is all we have
    return state not in ("Z", "X") and (arn is None or arn in command)


ADOPTED_POLL_SECONDS = 0.5
ECHO_POLL_SECONDS = 1.0


class EpochEcho:
    """The server's own log gets one line per finished epoch of a running task (what a
    user watching `make serve` sees), read from the task's structured history."""

    def __init__(self, arn: str, model_dir: Path):
        self.name = arn.rsplit("/", 1)[-1]
        self.model_dir = model_dir
        self.shown = 0

    def poll(self) -> None:
        epochs = (read_history(self.model_dir) or {}).get("epochs", [])
        for record in epochs[self.shown:]:
            log.info("training %s: %s", self.name, epoch_line(record))
        self.shown = max(self.shown, len(epochs))


class ProcessRunner:
    def __init__(self, backend, cores: CoreScheduler):
        self.backend = backend
        self.cores = cores
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def log_path(self, arn: str) -> Path:
        folder = self.backend.artifacts.root / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{arn_key(arn)}.log"

    def start(self, arn: str) -> None:
        """Queue the version for cores; its log says so at once."""
        self._note(arn, phase="queued", jobs_ahead=len(self.cores.waiting()),
                   jobs_running=len(self.cores.held()))
        self.cores.submit(arn, lambda threads: self._launch(arn, threads))

    def _note(self, arn: str, **fields) -> None:
        """A progress line of the runner's own in the task's log (the task appends)."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        line = f"{stamp},{int(now % 1 * 1000):03d} INFO {task_log.format_line(fields)}\n"
        with open(self.log_path(arn), "ab") as log_file:
            log_file.write(line.encode())

    def _launch(self, arn: str, threads: int) -> None:
        version = self.backend.registry.find(kinds.SOLUTION_VERSION, arn)
        if not version or version["status"] not in (CREATE_PENDING, CREATE_IN_PROGRESS):
            self.cores.release(arn)   # stopped or deleted while it waited
            return
        settings = self.backend.settings
        env = dict(os.environ, PERSONALIZE_DATA_DIR=str(settings.data_dir),
                   **thread_environment(threads),
                   **{NICE_VARIABLE: str(settings.training_nice)})
        self._note(arn, phase="launching", threads=threads)
        try:
            with open(self.log_path(arn), "ab") as log_file:
                process = subprocess.Popen(
                    [sys.executable, "-m", "chalicelib.training.task",
                     "--solution-version-arn", arn],
                    stdout=log_file, stderr=subprocess.STDOUT, env=env,
                    cwd=Path(__file__).resolve().parents[2], start_new_session=True)
        except OSError as error:
            self.cores.release(arn)
            finish_version(self.backend.registry, arn, CREATE_FAILED,
                           f"Could not start the training task: {error}")
            return
        with self._lock:
            self._processes[arn] = process
        def launched(doc):
            doc.update(_taskPid=process.pid, _taskThreads=threads)
            if doc["status"] == CREATE_PENDING:   # it has its cores and runs
                doc["status"] = CREATE_IN_PROGRESS
        self.backend.registry.update(kinds.SOLUTION_VERSION, arn, launched)
        threading.Thread(target=self._watch, args=(arn, process), daemon=True,
                         name=f"watch-{process.pid}").start()

    def _watch(self, arn: str, process: subprocess.Popen) -> None:
        echo = EpochEcho(arn, self.backend.artifacts.model_dir(arn))
        while True:
            try:
                code = process.wait(timeout=ECHO_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                echo.poll()
        echo.poll()
        with self._lock:
            self._processes.pop(arn, None)
        self.cores.release(arn)
        if code != 0:  # the task records its own failures; this catches kills and crashes
            finish_version(self.backend.registry, arn, CREATE_FAILED,
                           self._exit_reason(code))

    @staticmethod
    def _exit_reason(code: int) -> str:
        """A sentence for the user, never the task's own output (a traceback's last line
        is Python's text): the log file holds that."""
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        memory = " (it may have run out of memory)" if code in (-9, 137) else ""
        return (f"The training task {how}{memory} before recording a result. The details "
                "are in the training task's log.")

    def stop(self, arn: str) -> None:
        if self.cores.cancel(arn):   # still waiting for cores: it never started
            finish_version(self.backend.registry, arn, CREATE_FAILED, "stopped")
            return
        with self._lock:
            process = self._processes.get(arn)
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            return
        # Not started by this server: a task that survived a restart is stopped too (it
        # leads its own session); its adopted watcher then records the end.
        pid = (self.backend.registry.find(kinds.SOLUTION_VERSION, arn) or {}).get("_taskPid")
        if _alive(pid, arn):
            os.killpg(pid, signal.SIGTERM)
        finish_version(self.backend.registry, arn, CREATE_FAILED, "stopped")

    def recover(self) -> None:
        """Versions left running by a previous server process: a task that is gone
        failed; a task that survived its server keeps its cores and is watched until it
        ends, and fails the version if it ends without recording a result (killed,
        crashed); versions that were still waiting for cores queue again, oldest first."""
        waiting = []
        for version in self.backend.registry.list_all(
                kinds.SOLUTION_VERSION, lambda doc: doc["status"] in RUNNING):
            arn = version["solutionVersionArn"]
            pid = version.get("_taskPid")
            if _alive(pid, arn):
                log.info("watching training task %s (pid %s) left by a previous server",
                         arn, pid)
                self.cores.hold(arn, version.get("_taskThreads") or self.cores.cores)
                threading.Thread(target=self._watch_adopted, args=(arn, pid), daemon=True,
                                 name=f"adopt-{pid}").start()
            elif pid is None and version["status"] == CREATE_PENDING:
                waiting.append(version)
            else:
                finish_version(self.backend.registry, arn, CREATE_FAILED,
                               "Training was interrupted: the endpoint restarted while the "
                               "training task was not running.")
        for version in sorted(waiting, key=lambda doc: doc["creationDateTime"]):
            self.start(version["solutionVersionArn"])

    def _watch_adopted(self, arn: str, pid: int) -> None:
        """Not our child, so no wait(): poll until the process is gone."""
        while _alive(pid, arn):
            time.sleep(ADOPTED_POLL_SECONDS)
        self.cores.release(arn)
        finish_version(self.backend.registry, arn, CREATE_FAILED,
                       "Training task ended without recording a result (it was killed or "
                       "crashed while the endpoint was restarting). The details are in the "
                       "training task's log.")
