"""What every batch job shares: its lifecycle on the record and its S3 input and output."""
from __future__ import annotations

from typing import Callable

from chalicelib.errors import InvalidInputException
from chalicelib.records.registry import Kind


def run_job(backend, kind: Kind, arn: str, work: Callable[[dict], dict | None]) -> None:
    """Mark the job running, do `work(job)` (returns fields to record), then mark it done;
    any error marks it failed with the reason, so a job never stays running (the kind's
    lifecycle, chalicelib/records/lifecycle.py, moves it)."""
    kind.lifecycle.run(backend.registry, kind, arn, work)


def split_s3(path: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key)."""
    bucket, _, key = (path or "")[5:].partition("/")
    if not (path or "").startswith("s3://") or not bucket:
        raise InvalidInputException(f"{path!r} is not an s3:// path.")
    return bucket, key


def check_s3_path(path: str, member: str) -> str:
    """At Create time: AWS rejects anything but an s3:// location."""
    if not path or not path.startswith("s3://") or len(path) <= 5:
        raise InvalidInputException(f"{member} must be an s3:// path, got {path!r}.")
    return path


def folder(path: str) -> str:
    """An output path is a folder: AWS writes under it as if it ended in '/'."""
    return path if path.endswith("/") else path + "/"


def read_text(s3, path: str) -> str:
    bucket, key = split_s3(path)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise InvalidInputException(f"The input file {path} does not exist.") from None
    except s3.exceptions.NoSuchBucket:
        raise InvalidInputException(f"The bucket of {path} does not exist.") from None
    return body.decode("utf-8-sig")


def write_text(s3, path: str, text: str, content_type: str = "application/json") -> None:
    bucket, key = split_s3(path)
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)
