"""Where files live: normalised imports and model directories.

Locally a folder; the serverless stages mirror the same keys to an S3 prefix.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def arn_key(arn: str) -> str:
    """A filesystem-safe, stable name for an ARN."""
    name = arn.rsplit("/", 1)[-1]
    return f"{name}-{hashlib.sha1(arn.encode()).hexdigest()[:10]}"


class LocalArtifacts:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def dataset_dir(self, dataset_arn: str) -> Path:
        return self.root / "datasets" / arn_key(dataset_arn)

    def model_dir(self, solution_version_arn: str) -> Path:
        return self.root / "models" / arn_key(solution_version_arn)

    def flush(self) -> int:
        """Publish what was written (the S3 mirror uploads; a local folder has nothing to do)."""
        return 0

    def remove(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
