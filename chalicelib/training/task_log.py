"""What a training task is doing, as lines in its log: one when a phase starts, and a
heartbeat that repeats the current phase with its progress so that the log is never silent
for long (a user watching a version's log, the console's training view). The per-epoch
records the console plots are chalicelib/training/history.py's.

Every line reads

    progress: phase=training epoch=3/10 events_per_second=21430 eta_seconds=38 elapsed_seconds=14

(`key=value` pairs after `progress:`; `parse_line` reads them back). Phases: queued,
starting, loading, featurising, training (epoch k/N with events/s and an ETA), scoring,
saving, done. Recipes report through the module functions (`phase`, `epoch`, `advance`),
which do nothing unless a task has started a `TaskLog`, so recipes stay usable in-process.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

PREFIX = "progress:"
HEARTBEAT_SECONDS = 5.0   # the bound is 10 s; half leaves room for a loaded machine


def format_line(fields: dict) -> str:
    return PREFIX + " " + " ".join(f"{key}={value}" for key, value in fields.items()
                                   if value is not None)


def parse_line(line: str) -> dict[str, str] | None:
    """The fields of a progress line (anything before `progress:` is ignored), else None."""
    _, found, rest = line.partition(PREFIX)
    if not found:
        return None
    return dict(pair.split("=", 1) for pair in rest.split() if "=" in pair)


def read_log(text: str) -> list[tuple[float, dict[str, str]]]:
    """(epoch seconds, fields) of each progress line of a task log, whose lines start with
    logging's default time stamp ('2026-12-02 16:20:01,123', local time)."""
    import datetime
    lines = []
    for line in text.splitlines():
        fields = parse_line(line)
        if fields is None:
            continue
        try:
            when = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        except ValueError:
            continue
        lines.append((when, fields))
    return lines


class TaskLog:
    """The task's current phase and training progress, written by `write` (a log call)."""

    def __init__(self, write: Callable[[str], None], heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.write, self.heartbeat_seconds, self.clock = write, heartbeat_seconds, clock
        self.started = clock()
        self._lock = threading.Lock()
        self._fields: dict = {}
        self._context: dict = {}   # kept across phases: which HPO trial or AutoML recipe
        self._epoch: tuple[int, int, int] | None = None   # k, N, events per epoch
        self._epoch_started = self._done_events = 0.0
        self._last_write = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the task and the recipes report ----------------------------------------
    def context(self, **fields) -> None:
        """Fields every later line carries (None removes one): e.g. trial=2/4."""
        with self._lock:
            self._context.update(fields)
            self._context = {k: v for k, v in self._context.items() if v is not None}

    def phase(self, name: str, **details) -> None:
        with self._lock:
            self._fields = {"phase": name, **self._context, **details}
            self._epoch = None
        self._emit()

    def epoch(self, number: int, total: int, events: int) -> None:
        """Epoch `number` of `total` starts; it has `events` training targets."""
        with self._lock:
            self._fields = {"phase": "training", **self._context}
            self._epoch = (number, total, max(int(events), 1))
            self._epoch_started, self._done_events = self.clock(), 0
        self._emit()

    def advance(self, events: int) -> None:
        """`events` more targets of the current epoch are trained (no line is written)."""
        with self._lock:
            self._done_events += events

    # -- lines -----------------------------------------------------------------------
    def fields(self) -> dict:
        with self._lock:
            fields = dict(self._fields)
            now = self.clock()
            if self._epoch is not None:
                number, total, per_epoch = self._epoch
                seconds = now - self._epoch_started
                rate = self._done_events / seconds if seconds > 0 and self._done_events else None
                fields["epoch"] = f"{number}/{total}"
                if rate:
                    left = (per_epoch - min(self._done_events, per_epoch)
                            + (total - number) * per_epoch)
                    fields["events_per_second"] = f"{rate:.0f}"
                    fields["eta_seconds"] = f"{left / rate:.0f}"
            fields["elapsed_seconds"] = f"{now - self.started:.0f}"
        return fields

    def _emit(self) -> None:
        line = format_line(self.fields())
        self._last_write = self.clock()
        self.write(line)

    def start(self) -> "TaskLog":
        """Install as the task's progress and start the heartbeat thread."""
        global _current
        _current = self
        self._thread = threading.Thread(target=self._beat, daemon=True, name="progress")
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_seconds)):
            if self.clock() - self._last_write >= self.heartbeat_seconds:
                self._emit()

    def stop(self) -> None:
        global _current
        self._stop.set()
        if _current is self:
            _current = None


_current: TaskLog | None = None


def phase(name: str, **details) -> None:
    if _current is not None:
        _current.phase(name, **details)


def context(**fields) -> None:
    if _current is not None:
        _current.context(**fields)


def epoch(number: int, total: int, events: int) -> None:
    if _current is not None:
        _current.epoch(number, total, events)


def advance(events: int) -> None:
    if _current is not None:
        _current.advance(events)
