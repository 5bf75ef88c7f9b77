"""Trained models kept in memory, loaded once per solution version."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from chalicelib.deployment import read_deployment
from chalicelib.serving.heap import settle_long_lived
from chalicelib.models.base import Model

log = logging.getLogger(__name__)


@dataclass
class Deployed:
    model: Model
    histories: dict[str, list[str]]   # from the training data, oldest first
    event_seq: int                    # live events after this are not in the model
    revision: int = 0                 # bumped by automatic updates: reload when it moves
    # each history event's context ({FIELD: value}), for models with context fields
    history_contexts: dict[str, list[dict]] = field(default_factory=dict)


class ModelCache:
    def __init__(self, artifacts, threads: int = 0):
        self.artifacts = artifacts
        self.threads = threads  # torch and BLAS threads; 0: leave their defaults
        self._loaded: dict[str, Deployed] = {}
        self._lock = threading.Lock()
        self._loading: set[str] = set()     # ARNs being reloaded in the background
        self._loading_lock = threading.Lock()

    def get(self, version: dict) -> Deployed:
        """The version's model. When an automatic update has moved its revision, the
        previous revision keeps serving while the new one loads in the background:
        requests never wait for a reload (only for a version's very first load)."""
        arn = version["solutionVersionArn"]
        revision = version.get("_modelRevision", 0)
        deployed = self._loaded.get(arn)
        if deployed is not None and deployed.revision == revision:
            return deployed
        if deployed is not None:
            self._load_in_background(version)
            return deployed
        return self.load(version)

    def load(self, version: dict) -> Deployed:
        """Load the version's current revision now (unless it already is)."""
        arn = version["solutionVersionArn"]
        revision = version.get("_modelRevision", 0)
        with self._lock:
            deployed = self._loaded.get(arn)
            if deployed is None or deployed.revision != revision:
                self._size_thread_pools()
                deployment = read_deployment(self.artifacts.model_dir(arn))
                deployed = Deployed(deployment.model, deployment.histories,
                                    version.get("_eventSeq", 0), revision,
                                    deployment.history_contexts)
                self._loaded[arn] = deployed
                settle_long_lived()
                threading.Thread(target=self._prepare, args=(deployed,), daemon=True,
                                 name="model-prepare").start()
        return deployed

    @staticmethod
    def _prepare(deployed: Deployed) -> None:
        try:
            deployed.model.prepare(deployed.histories)
        except Exception:   # only a head start: requests compute what it did not
            log.exception("preparing per-user serving state failed")

    def preload(self, versions: list[dict]) -> None:
        """After an automatic-update round: load the new revisions of the models being
        served, on the caller's thread, so the next request finds them loaded."""
        for version in versions:
            if version["solutionVersionArn"] in self._loaded:
                self.load(version)

    def _load_in_background(self, version: dict) -> None:
        arn = version["solutionVersionArn"]
        with self._loading_lock:
            if arn in self._loading:
                return
            self._loading.add(arn)

        def load():
            try:
                self.load(version)
            except Exception:
                log.exception("reloading %s failed; the previous revision keeps serving", arn)
            finally:
                with self._loading_lock:
                    self._loading.discard(arn)
        threading.Thread(target=load, daemon=True, name="model-reload").start()

    def _size_thread_pools(self) -> None:
        """Once, when the first model is loaded (torch is imported only when needed): torch's
        and numpy's BLAS thread pools both sized to `threads`. Requests already run
        in parallel on the server's threads; a second BLAS thread per matrix-vector product
        only waits for a core that another request or the client holds (OpenBLAS's default
        of one thread per core made 1 in 50 retrieval scans at a million items take 8 ms
        instead of 1 on two busy cores)."""
        if self.threads > 0:
            import torch
            from threadpoolctl import threadpool_limits
            torch.set_num_threads(self.threads)
            threadpool_limits(self.threads, user_api="blas")
            self.threads = 0

    def forget(self, arn: str) -> None:
        with self._lock:
            self._loaded.pop(arn, None)
