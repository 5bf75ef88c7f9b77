"""The machine's cores, shared by the jobs that train or score in bulk.

Two processes that each take every core for torch and BLAS run at a quarter of their
speed, not half: their threads preempt each other mid-operation. So one scheduler in the
endpoint owns the training cores and grants each job a fixed number of threads before it
starts; a job's thread count cannot change once torch's pools exist.

- Jobs that start together split the free cores: max(1, cores // jobs) each (the first
  ones take the remainder). A job that arrives while the cores are held waits in
  CREATE PENDING, in arrival order, until a running job ends: sharing a core with a job
  that already holds it would put more threads than cores on the machine again.
- Jobs created within `gather_seconds` of each other count as arriving together: the
  AWS notebooks create their versions back to back, and two jobs on one thread each finish
  sooner than the same two one after the other on two threads each (bench/README.md).
- Solution versions (with their HPO trials and AutoML candidates, which run one after
  another inside the version's task on its threads), batch inference and batch segment
  jobs all draw from this one budget.

`cores` is the training share of the machine: the CPUs this process may run on, less
the cores reserved for serving (Settings.training_cores, Settings.serving_reserved_cores).
On ECS each version is its own Fargate task: the task definition's vCPUs set its threads
(chalicelib/training/ecs_runner.py) and nothing queues here.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

# What each thread pool a training task may start reads; set for the child process
# before it starts, so BLAS (loaded with numpy) and OpenMP (loaded with torch) size
# their pools from them.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
GRANT_VARIABLE = "PERSONALIZE_TRAINING_THREADS"
# Set by the process runner for a task it starts beside a serving endpoint: the task then
# runs as SCHED_BATCH at this niceness. An ECS task has its machine to itself and keeps
# the default policy.
NICE_VARIABLE = "PERSONALIZE_TASK_NICE"

log = logging.getLogger(__name__)


def machine_cores() -> int:
    """CPUs this process may run on (its affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def training_cores(configured: int = 0, reserved_for_serving: int = 0) -> int:
    """The budget: `configured` when set, else the machine's cores less the serving share."""
    if configured > 0:
        return configured
    return max(1, machine_cores() - max(0, reserved_for_serving))


def thread_environment(threads: int) -> dict[str, str]:
    """Environment variables that give a child process `threads` threads everywhere."""
    return {**{name: str(threads) for name in THREAD_VARIABLES}, GRANT_VARIABLE: str(threads)}


def granted_threads() -> int:
    """The threads this (task) process was granted; its machine's cores when run alone."""
    try:
        return max(1, int(os.environ.get(GRANT_VARIABLE, "0"))) \
            if os.environ.get(GRANT_VARIABLE) else machine_cores()
    except ValueError:
        return machine_cores()


def lower_priority() -> bool:
    """Yield the CPU to request threads: SCHED_BATCH (the kernel never lets a batch thread
    preempt one that wakes up, while a waking request thread preempts it) at the niceness
    the runner asked for. Linux keeps both per thread and new threads inherit them, so call
    this before torch, BLAS or any other thread starts. True when applied."""
    value = os.environ.get(NICE_VARIABLE)
    if value is None:
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        if int(value) > 0:
            os.nice(int(value))
    except (AttributeError, OSError, ValueError):   # not Linux, or not permitted
        return False
    return True


def apply_threads(threads: int) -> int:
    """Size torch's intra-op and inter-op pools and the BLAS pools: call before any torch
    work (the inter-op pool is fixed once it has run something). Returns torch's intra-op
    thread count as it now stands."""
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:   # already started: an in-process caller keeps its pool
        pass
    threadpool_limits(threads)
    return torch.get_num_threads()


@dataclass
class Job:
    key: str
    start: Callable[[int], None]      # called with the granted threads when its turn comes
    max_threads: int | None = None     # jobs that cannot use more (in-process batch jobs)
    submitted: float = 0.0
    threads: int = 0


@dataclass
class CoreScheduler:
    cores: int
    gather_seconds: float = 0.5
    clock: Callable[[], float] = time.monotonic
    _waiting: list[Job] = field(default_factory=list)
    _running: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Timer | None = None

    def submit(self, key: str, start: Callable[[int], None],
               max_threads: int | None = None) -> None:
        """Queue a job; `start(threads)` runs (on a scheduler thread) when it may start.
        The job must call release(key) when it ends, however it ends."""
        with self._lock:
            if key in self._running or any(job.key == key for job in self._waiting):
                return
            self._waiting.append(Job(key, start, max_threads, self.clock()))
            if self.gather_seconds > 0:
                if self._timer is None:   # the first arrival opens the gathering window
                    self._timer = threading.Timer(self.gather_seconds, self._gathered)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._dispatch()

    def hold(self, key: str, threads: int) -> None:
        """Count a job that is already running (a task that outlived its endpoint)."""
        with self._lock:
            self._running[key] = Job(key, lambda _: None, threads=max(1, threads))

    def release(self, key: str) -> None:
        """The job ended (or will never start): its threads go to the next jobs."""
        with self._lock:
            self._running.pop(key, None)
            self._waiting = [job for job in self._waiting if job.key != key]
        self._dispatch()

    def cancel(self, key: str) -> bool:
        """Drop a job that has not started; True when it was waiting."""
        with self._lock:
            before = len(self._waiting)
            self._waiting = [job for job in self._waiting if job.key != key]
            return len(self._waiting) < before

    def held(self) -> dict[str, int]:
        """Threads of each running job."""
        with self._lock:
            return {key: job.threads for key, job in self._running.items()}

    def waiting(self) -> list[str]:
        with self._lock:
            return [job.key for job in self._waiting]

    def position(self, key: str) -> int | None:
        """1 for the next job to start, None when it is not waiting."""
        keys = self.waiting()
        return keys.index(key) + 1 if key in keys else None

    # -- internals ---------------------------------------------------------------------
    def _gathered(self) -> None:
        with self._lock:
            self._timer = None
        self._dispatch()

    def _dispatch(self) -> None:
        with self._lock:
            free = self.cores - sum(job.threads for job in self._running.values())
            starting = self._waiting[:max(0, free)]
            self._waiting = self._waiting[len(starting):]
            for job, threads in zip(starting, _split(free, [j.max_threads for j in starting])):
                job.threads = threads
                self._running[job.key] = job
        for job in starting:   # outside the lock: a start may release at once
            try:
                job.start(job.threads)
            except Exception:   # the job records its own failure; its cores are free again
                log.exception("job %s did not start", job.key)
                self.release(job.key)


def _split(free: int, limits: list[int | None]) -> list[int]:
    """`free` cores over jobs that start together (no more jobs than cores): one core at a
    time round the jobs, so equal shares with the remainder to the first, none above its
    limit."""
    shares = [0] * len(limits)
    while free > 0:
        open_jobs = [i for i, limit in enumerate(limits) if limit is None or shares[i] < limit]
        if not open_jobs:
            break
        for index in open_jobs[:free]:
            shares[index] += 1
        free -= min(free, len(open_jobs))
    return shares
