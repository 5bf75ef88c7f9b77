"""Trained models kept in memory, loaded once per solution version."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from chalicelib.serving.heap import settle_long_lived
from chalicelib.training.recipes import load_model
from chalicelib.training.recipes.base import Model


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

    def get(self, version: dict) -> Deployed:
        arn = version["solutionVersionArn"]
        revision = version.get("_modelRevision", 0)
        deployed = self._loaded.get(arn)
        if deployed is None or deployed.revision != revision:
            with self._lock:
                deployed = self._loaded.get(arn)
                if deployed is None or deployed.revision != revision:
                    # Lazy: the task module pulls in the training-data loaders.
                    from chalicelib.training.task import HISTORY_CONTEXT_FILE, HISTORY_FILE
                    self._size_thread_pools()
                    directory = self.artifacts.model_dir(arn)
                    contexts = directory / HISTORY_CONTEXT_FILE
                    deployed = Deployed(
                        load_model(directory),
                        json.loads((directory / HISTORY_FILE).read_text()),
                        version.get("_eventSeq", 0), revision,
                        json.loads(contexts.read_text()) if contexts.exists() else {})
                    self._loaded[arn] = deployed
                    settle_long_lived()
        return deployed

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
