"""The embedded server's stand-in for the two-hourly EventBridge rule: a timer thread,
and rounds on demand (POST /_personalize/automatic-updates) for one account at a time."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from chalicelib.resources import kinds
from chalicelib.scheduling.auto_update import run_automatic_updates

log = logging.getLogger(__name__)
GATHER_SECONDS = 0.2   # on-demand triggers this close together share one round


@dataclass
class _Rounds:
    """Rounds of one scope: how many started and finished, and their results."""
    started: int = 0
    finished: int = 0
    running: bool = False
    results: dict[int, list[str]] = field(default_factory=dict)


class AutoUpdateScheduler:
    def __init__(self, backend, interval_seconds: float, after_round=None):
        self.backend = backend
        # after_round(versions): e.g. the serving cache loads the refreshed models
        self.after_round = after_round
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one round at a time, timer or on demand
        self._changed = threading.Condition()
        self._scopes: dict[str, _Rounds] = {}
        self._thread = threading.Thread(target=self._loop, daemon=True, name="auto-update")

    def start(self) -> "AutoUpdateScheduler":
        self._thread.start()
        return self

    def run_now(self, arn_prefix: str = "") -> list[str]:
        with self._lock:
            updated = run_automatic_updates(self.backend, arn_prefix)
            if self.after_round is not None and updated:
                versions = [self.backend.registry.find(kinds.SOLUTION_VERSION, arn)
                            for arn in updated]
                self.after_round([v for v in versions if v])
            return updated

    def trigger(self, arn_prefix: str) -> list[str]:
        """A round for one account that starts after this call: triggers that arrive
        while a round of theirs runs share the one next round (16 parallel triggers run
        at most two rounds, not sixteen)."""
        with self._changed:
            rounds = self._scopes.setdefault(arn_prefix, _Rounds())
            wanted = rounds.started + 1   # a round already running started too early
            while rounds.finished < wanted:
                if rounds.running:
                    self._changed.wait()
                    continue
                rounds.running = True
                self._changed.release()
                try:
                    # Triggers sent together arrive spread out: those within the gather
                    # window join this round (`started` is not counted up until it runs).
                    time.sleep(GATHER_SECONDS)
                    with self._changed:
                        rounds.started += 1
                        number = rounds.started
                    result = self.run_now(arn_prefix)
                except Exception:
                    log.exception("automatic update round failed")
                    result = []
                finally:
                    self._changed.acquire()
                rounds.results[number] = result
                rounds.results.pop(number - 16, None)  # waiters of older rounds have left
                rounds.running, rounds.finished = False, number
                self._changed.notify_all()
            return rounds.results.get(wanted, [])

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_now()
            except Exception:
                log.exception("automatic update round failed")

    def stop(self) -> None:
        self._stop.set()
