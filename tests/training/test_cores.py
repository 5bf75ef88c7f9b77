"""The core scheduler: jobs never hold more threads than cores, jobs that arrive together
share them, later ones wait in order; the thread grant reaches a task's torch and BLAS."""
import os
import random
import subprocess
import sys
import threading

import pytest

from chalicelib.training.cores import (GRANT_VARIABLE, NICE_VARIABLE, CoreScheduler,
                                       thread_environment, training_cores)
from tests.conftest import ROOT


class Recorder:
    """start callbacks that record (key, threads) in start order."""

    def __init__(self):
        self.started: list[tuple[str, int]] = []
        self.event = threading.Condition()

    def __call__(self, key):
        def start(threads):
            with self.event:
                self.started.append((key, threads))
                self.event.notify_all()
        return start

    def wait_for(self, count, timeout=10):
        with self.event:
            assert self.event.wait_for(lambda: len(self.started) >= count, timeout), \
                self.started


def test_jobs_that_arrive_together_share_the_cores_and_later_ones_wait_in_order():
    cores = CoreScheduler(cores=2, gather_seconds=0.2)
    record = Recorder()
    for key in "abcd":
        cores.submit(key, record(key))
    record.wait_for(2)
    assert record.started == [("a", 1), ("b", 1)]
    assert cores.waiting() == ["c", "d"] and cores.position("d") == 2
    cores.release("b")
    record.wait_for(3)
    assert record.started[2] == ("c", 1)   # one core free: c takes it, d still waits
    assert sum(cores.held().values()) == 2 and cores.waiting() == ["d"]
    cores.release("a")
    record.wait_for(4)
    assert record.started[3] == ("d", 1)   # a free core is taken at once
    cores.release("c")
    cores.release("d")
    cores.submit("e", record("e"))
    record.wait_for(5)
    assert record.started[4] == ("e", 2)   # alone: both cores


def test_a_job_arriving_while_the_cores_are_held_waits_for_them():
    cores = CoreScheduler(cores=2, gather_seconds=0)
    record = Recorder()
    cores.submit("first", record("first"))
    assert record.started == [("first", 2)]
    cores.submit("second", record("second"))
    assert cores.waiting() == ["second"] and cores.held() == {"first": 2}
    assert cores.cancel("second") and not cores.cancel("second")
    cores.submit("third", record("third"))
    cores.release("first")
    assert record.started[-1] == ("third", 2)


def test_limited_jobs_leave_the_rest_to_the_others():
    cores = CoreScheduler(cores=4, gather_seconds=0.1)
    record = Recorder()
    cores.submit("batch", record("batch"), max_threads=1)
    cores.submit("training", record("training"))
    record.wait_for(2)
    assert dict(record.started) == {"batch": 1, "training": 3}


def test_held_threads_never_exceed_the_cores():
    """Random arrivals and ends: at every moment the running jobs hold at most `cores`
    threads, each at least one, and jobs start in the order they arrived."""
    rng = random.Random(7)
    for budget in (1, 2, 3, 8):
        cores = CoreScheduler(cores=budget, gather_seconds=0)
        record = Recorder()
        submitted = []
        for step in range(200):
            held = cores.held()
            if held and rng.random() < 0.45:
                cores.release(rng.choice(sorted(held)))
            else:
                key = f"job{step}"
                submitted.append(key)
                cores.submit(key, record(key), max_threads=rng.choice([None, None, 1, 2]))
            held = cores.held()
            assert sum(held.values()) <= budget and all(t >= 1 for t in held.values())
        started = [key for key, _ in record.started]
        assert started == [key for key in submitted if key in started]


def test_training_cores_leaves_the_reserved_share():
    assert training_cores(configured=3) == 3
    assert training_cores(reserved_for_serving=10_000) == 1
    available = len(os.sched_getaffinity(0))
    assert training_cores(reserved_for_serving=1) == max(1, available - 1)


@pytest.mark.timeout(120)
def test_the_grant_and_the_priority_reach_the_task_process():
    """What the runner gives a task process (its environment) is what torch and BLAS use,
    and the task yields to request threads: SCHED_BATCH, in its later threads too."""
    code = ("import os, threading; from chalicelib.training import cores; "
            "cores.lower_priority(); n = cores.apply_threads(cores.granted_threads()); "
            "import torch; from threadpoolctl import threadpool_info; seen = []; "
            "t = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(0))); "
            "t.start(); t.join(); print(n, torch.get_num_interop_threads(), "
            "seen == [os.SCHED_BATCH], sorted({p['num_threads'] for p in threadpool_info()}))")
    env = {**os.environ, **thread_environment(1), NICE_VARIABLE: "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split(maxsplit=3)
    assert out[:3] == ["1", "1", "True"] and out[3].strip() == "[1]"
    assert thread_environment(3)[GRANT_VARIABLE] == "3"
