"""What every batch job shares: its lifecycle on the record and its S3 input and output."""
from __future__ import annotations

from typing import Callable

from botocore.exceptions import ClientError

from chalicelib.errors import InvalidInputException, JobFailure, ServiceError, failure_reason
from chalicelib.records.registry import Kind


def run_job(backend, kind: Kind, arn: str, work: Callable[[dict], dict | None]) -> None:
    """Mark the job running, do `work(job)` (returns fields to record), then mark it done;
    any error marks it failed with a reason written for the user, so a job never stays
    running (the kind's lifecycle, chalicelib/records/lifecycle.py, moves it)."""
    kind.lifecycle.run(
        backend.registry, kind, arn, work, expected=(ServiceError, JobFailure),
        reason=lambda error: failure_reason(error, f"The {kind.label.lower()}",
                                            "the server log"))


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


def read_bytes(s3, path: str) -> bytes:
    """The input object as it is (batch input lines are decoded one by one, so that one
    line that is not UTF-8 fails that line, not the job)."""
    bucket, key = split_s3(path)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise InvalidInputException(f"The input file {path} does not exist.") from None
    except s3.exceptions.NoSuchBucket:
        raise InvalidInputException(f"The bucket of {path} does not exist.") from None
    except ClientError as error:
        raise JobFailure(f"Could not read {path}: {_s3_problem(error)}") from None


def write_text(s3, path: str, text: str, content_type: str = "application/json") -> None:
    """UTF-8; a lone surrogate (only data stored before the wire refused them can hold
    one) is written as its \\udXXX escape instead of failing the whole output."""
    bucket, key = split_s3(path)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8", "backslashreplace"),
                      ContentType=content_type)
    except ClientError as error:
        raise JobFailure(f"Could not write the output to {path}: {_s3_problem(error)}") \
            from None


def _s3_problem(error: ClientError) -> str:
    detail = error.response.get("Error", {})
    code = detail.get("Code", "")
    if code == "NoSuchBucket":
        return "the bucket does not exist."
    if code in ("AccessDenied", "403", "Forbidden"):
        return "access denied; check the role's S3 permissions."
    return f"{code} {detail.get('Message', '')}".strip() + "."
