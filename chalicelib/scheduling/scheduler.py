"""The embedded server's stand-in for the two-hourly EventBridge rule: a timer thread."""
from __future__ import annotations

import logging
import threading

from chalicelib.scheduling.auto_update import run_automatic_updates

log = logging.getLogger(__name__)


class AutoUpdateScheduler:
    def __init__(self, backend, interval_seconds: float):
        self.backend = backend
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one round at a time, timer or on demand
        self._thread = threading.Thread(target=self._loop, daemon=True, name="auto-update")

    def start(self) -> "AutoUpdateScheduler":
        self._thread.start()
        return self

    def run_now(self) -> list[str]:
        with self._lock:
            return run_automatic_updates(self.backend)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_now()
            except Exception:
                log.exception("automatic update round failed")

    def stop(self) -> None:
        self._stop.set()
