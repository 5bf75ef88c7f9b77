"""What the console shows, read through the same provider methods the API calls (so a
viewer sees exactly their own account's resources), plus the files beside them: row
counts of imported data, training histories and task logs."""
from __future__ import annotations

import csv
import threading
from pathlib import Path

from chalicelib.errors import ServiceError
from chalicelib.serving.inspection import ServingInspector
from chalicelib.storage.artifacts import arn_key
from chalicelib.training.history import read_history
from chalicelib.wire.gateway import RequestContext
from chalicelib.wire.service_models import operation_model

_row_counts: dict[tuple[str, int, int], int] = {}
_row_counts_lock = threading.Lock()


def csv_rows(path: Path) -> int:
    """Data rows of a normalised import file (header left out), cached by size and mtime."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _row_counts_lock:
        found = _row_counts.get(key)
    if found is None:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            found = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        with _row_counts_lock:
            _row_counts[key] = found
    return found


class ConsoleReader:
    """One viewer's reads: every API call goes through Gateway.invoke for the viewer's
    account and region, as a signed request of theirs would."""

    def __init__(self, gateway, backend, account_id: str, region: str):
        self.gateway = gateway
        self.backend = backend
        self.account_id, self.region = account_id, region
        self.inspector = ServingInspector(gateway.providers["personalize-runtime"])

    def call(self, operation: str, service: str = "personalize", **params):
        context = RequestContext(service, operation, self.account_id, self.region)
        return self.gateway.invoke(context, operation_model(service, operation), params)

    def all(self, operation: str, key: str, **params) -> list[dict]:
        """Every page of a List call."""
        found, token = [], None
        while True:
            page = self.call(operation, **params, **({"nextToken": token} if token else {}))
            found += page.get(key) or []
            token = page.get("nextToken")
            if not token:
                return found

    def describe(self, operation: str, key: str, **params) -> dict | None:
        try:
            return self.call(operation, **params)[key]
        except ServiceError:
            return None

    # -- files beside the resources ----------------------------------------------------
    def dataset_rows(self, dataset: dict) -> int:
        folder = self.backend.artifacts.dataset_dir(dataset["datasetArn"])
        imported = sum(csv_rows(path) for path in sorted(folder.glob("*.csv")))
        records = 0
        if dataset.get("datasetType") in ("Items", "Users", "Actions"):
            records = len(self.backend.events.records(dataset["datasetArn"]))
        return imported + records

    def training_history(self, version_arn: str) -> dict | None:
        return read_history(self.backend.artifacts.model_dir(version_arn))

    def task_log_tail(self, version_arn: str, lines: int = 15) -> list[str]:
        path = self.backend.artifacts.root / "logs" / f"{arn_key(version_arn)}.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return []
        return text.strip().splitlines()[-lines:]

    def tracker_events(self, group_arn: str) -> list[dict]:
        return self.backend.events.events(group_arn)

    # -- serving -----------------------------------------------------------------------
    def recommend(self, **params) -> dict:
        return self.call("GetRecommendations", "personalize-runtime", **params)
