"""Artifacts mirrored to S3, for the serverless stages.

Lambda's disk is a per-container /tmp and the ECS training task is another machine, so
model and dataset folders live under s3://bucket/prefix/<same relative path as locally>.
Same interface as LocalArtifacts (callers get local folders and read or write files in
them), plus:
  - dataset_dir / model_dir first pull what S3 has that the local copy lacks or has older;
  - flush() uploads the files that changed in any folder handed out since the last flush
    (call it when a unit of work is done: end of a request, of a training task).
"""
from __future__ import annotations

import threading
from pathlib import Path

from chalicelib.storage.artifacts import LocalArtifacts


class S3Artifacts(LocalArtifacts):
    def __init__(self, root: Path, s3, bucket: str, prefix: str = "artifacts"):
        super().__init__(root)
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._etags: dict[str, str] = {}              # key -> ETag of our local copy
        self._stamps: dict[Path, tuple[int, int]] = {}  # file -> (size, mtime) when synced
        self._open: set[Path] = set()
        self._lock = threading.Lock()

    def key(self, path: Path) -> str:
        return f"{self.prefix}/{Path(path).relative_to(self.root).as_posix()}"

    def dataset_dir(self, dataset_arn: str) -> Path:
        return self._pulled(super().dataset_dir(dataset_arn))

    def model_dir(self, solution_version_arn: str) -> Path:
        return self._pulled(super().model_dir(solution_version_arn))

    def _pulled(self, folder: Path) -> Path:
        with self._lock:
            self._open.add(folder)
            for item in self._listing(folder):
                target = self.root / item["Key"][len(self.prefix) + 1:]
                if target.exists() and (self._stamps.get(target) != _stamp(target)
                                        or self._etags.get(item["Key"]) == item["ETag"]):
                    continue  # written here and not flushed yet, or already the same
                target.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(self.bucket, item["Key"], str(target))
                self._etags[item["Key"]] = item["ETag"]
                self._stamps[target] = _stamp(target)
        return folder

    def _listing(self, folder: Path) -> list[dict]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.key(folder) + "/")
        return [item for page in pages for item in page.get("Contents", [])]

    def flush(self) -> int:
        """Upload changed files of the folders handed out; returns how many went up."""
        uploaded = 0
        with self._lock:
            for folder in sorted(self._open):
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    if self._stamps.get(path) == _stamp(path):
                        continue
                    key = self.key(path)
                    self.s3.upload_file(str(path), self.bucket, key)
                    self._stamps[path] = _stamp(path)
                    self._etags[key] = self.s3.head_object(Bucket=self.bucket,
                                                           Key=key)["ETag"]
                    uploaded += 1
            self._open.clear()
        return uploaded

    def remove(self, path: Path) -> None:
        super().remove(path)
        with self._lock:
            self._open.discard(Path(path))
            for item in self._listing(Path(path)):
                self.s3.delete_object(Bucket=self.bucket, Key=item["Key"])


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def use_s3_artifacts(backend) -> S3Artifacts | None:
    """Serverless stages (Settings.artifact_bucket set): swap the backend's folder for the
    S3 mirror, before providers are built on it. Keeps the same local root as a cache."""
    bucket = backend.settings.artifact_bucket
    if not bucket:
        return None
    backend.artifacts = S3Artifacts(backend.artifacts.root, backend.s3_client(), bucket,
                                    backend.settings.artifact_prefix)
    return backend.artifacts
