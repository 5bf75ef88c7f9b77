"""The embedded S3's buckets on disk, so they outlive the process (kill -9 included).

moto serves the S3 protocol from memory; after every request that changed a bucket, and
before the client hears back, that bucket's state is written here: one JSON file per
bucket (owning account, region), and per object its bytes and a JSON record (key, ETag,
metadata), each written to a temporary file, fsynced and renamed into place. On start
every bucket and object is put back into moto under its owning account.

Kept: buckets, objects (current versions), their metadata and ETags. Not kept: bucket
configuration (policies, CORS, versioning, tags) and multipart uploads in progress.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path

log = logging.getLogger(__name__)
_PARTITION = "aws"


def write_durably(path: Path, data: bytes) -> None:
    """tmp file + fsync + rename + fsync of the folder: the file is whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _object_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DurableBuckets:
    def __init__(self, root: Path):
        self.root = root
        self.buckets_dir = root / "buckets"
        self.objects_dir = root / "objects"
        self.buckets_dir.mkdir(parents=True, exist_ok=True)
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        # bucket -> {key: (etag, last modified)} of what is on disk
        self._index: dict[str, dict[str, tuple[str, str]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def _backends():
        from moto.s3.models import s3_backends
        return s3_backends

    def owner(self, bucket_name: str) -> str | None:
        """The account that holds `bucket_name`, or None."""
        owner = self._backends().bucket_accounts.get(bucket_name)
        return owner[1] if owner else None

    def _lock(self, bucket: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(bucket, threading.Lock())

    # -- start: disk -> moto -----------------------------------------------------------
    def restore(self) -> int:
        """Put every stored bucket and object back into moto; returns the object count."""
        count = 0
        for meta_path in sorted(self.buckets_dir.glob("*.json")):
            meta = json.loads(meta_path.read_text())
            backend = self._backends()[meta["account"]][_PARTITION]
            bucket = backend.create_bucket(meta["name"], meta["region"])
            bucket.creation_date = dt.datetime.fromisoformat(meta["created"])
            index = self._index.setdefault(meta["name"], {})
            folder = self.objects_dir / meta["name"]
            for record_path in sorted(folder.glob("*.json")) if folder.exists() else []:
                record = json.loads(record_path.read_text())
                data_path = record_path.with_suffix(".data")
                if not data_path.exists():
                    continue
                key = backend.put_object(meta["name"], record["key"], data_path.read_bytes())
                key.set_metadata(dict(record["metadata"]), replace=True)
                key._etag = record["etag"].strip('"')  # moto quotes it when asked
                key.last_modified = dt.datetime.fromisoformat(record["last_modified"])
                index[record["key"]] = (record["etag"], record["last_modified"])
                count += 1
        return count

    # -- after a change: moto -> disk --------------------------------------------------
    def sync(self, bucket_name: str) -> None:
        """Write `bucket_name` as moto holds it now (or remove it when moto has none)."""
        with self._lock(bucket_name):
            owner = self._backends().bucket_accounts.get(bucket_name)
            bucket = None
            if owner is not None:
                bucket = self._backends()[owner[1]][owner[0]].buckets.get(bucket_name)
            if bucket is None:
                self._drop(bucket_name)
                return
            meta_path = self.buckets_dir / f"{bucket_name}.json"
            if bucket_name not in self._index or not meta_path.exists():
                write_durably(meta_path, json.dumps({
                    "name": bucket_name, "account": bucket.account_id,
                    "region": bucket.region_name,
                    "created": bucket.creation_date.isoformat()}).encode())
            self._sync_objects(bucket_name, bucket)

    def _sync_objects(self, bucket_name: str, bucket) -> None:
        index = self._index.setdefault(bucket_name, {})
        folder = self.objects_dir / bucket_name
        folder.mkdir(exist_ok=True)
        current = {}
        for key in bucket.keys.values():
            if getattr(key, "name", None) is None or not hasattr(key, "value"):
                continue  # delete markers of versioned buckets
            stamp = (key.etag, key.last_modified.isoformat())
            current[key.name] = stamp
            if index.get(key.name) != stamp:
                object_id = _object_id(key.name)
                write_durably(folder / f"{object_id}.data", key.value)
                write_durably(folder / f"{object_id}.json", json.dumps({
                    "key": key.name, "etag": stamp[0], "last_modified": stamp[1],
                    "metadata": dict(key.metadata)}).encode())
                index[key.name] = stamp
        gone = set(index) - set(current)
        for name in gone:
            object_id = _object_id(name)
            for suffix in (".json", ".data"):  # the record first: restore skips a lone .data
                (folder / f"{object_id}{suffix}").unlink(missing_ok=True)
            del index[name]
        if gone:
            _fsync_dir(folder)

    def _drop(self, bucket_name: str) -> None:
        meta_path = self.buckets_dir / f"{bucket_name}.json"
        if meta_path.exists():
            meta_path.unlink()
            _fsync_dir(self.buckets_dir)
        shutil.rmtree(self.objects_dir / bucket_name, ignore_errors=True)
        self._index.pop(bucket_name, None)
