"""Trained models kept in memory, loaded once per solution version."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from chalicelib.training.recipes import load_model
from chalicelib.training.recipes.base import Model
from chalicelib.training.task import HISTORY_FILE


@dataclass
class Deployed:
    model: Model
    histories: dict[str, list[str]]   # from the training data, oldest first
    event_seq: int                    # live events after this are not in the model


class ModelCache:
    def __init__(self, artifacts):
        self.artifacts = artifacts
        self._loaded: dict[str, Deployed] = {}
        self._lock = threading.Lock()

    def get(self, version: dict) -> Deployed:
        arn = version["solutionVersionArn"]
        deployed = self._loaded.get(arn)
        if deployed is None:
            with self._lock:
                deployed = self._loaded.get(arn)
                if deployed is None:
                    directory = self.artifacts.model_dir(arn)
                    deployed = Deployed(
                        load_model(directory),
                        json.loads((directory / HISTORY_FILE).read_text()),
                        version.get("_eventSeq", 0))
                    self._loaded[arn] = deployed
        return deployed

    def replace(self, arn: str, deployed: Deployed) -> None:
        """Automatic updates swap a model in place."""
        with self._lock:
            self._loaded[arn] = deployed

    def forget(self, arn: str) -> None:
        with self._lock:
            self._loaded.pop(arn, None)
