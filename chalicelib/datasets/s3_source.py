"""Reading an import's CSV from S3, line by line: one object, or every .csv object under a
prefix (a location ending in '/'), in key order, as if they were one file with one header."""
from __future__ import annotations

from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.datasets.csv_import import DataImportError

_CHUNK = 1 << 20   # bytes read from S3 at a time


def parse_s3_url(url: str) -> tuple[str, str]:
    """'s3://bucket/some/key' -> ('bucket', 'some/key'); the key may be '' or end in '/'."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise DataImportError(f"{url} is not an S3 location; expected s3://bucket/key.")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise DataImportError(f"{url} names no bucket; expected s3://bucket/key.")
    return bucket, key


def list_csv_keys(s3, bucket: str, prefix: str) -> list[str]:
    """Keys of the .csv objects under `prefix`, sorted (S3 lists in key order already)."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", [])
                  if o["Key"].lower().endswith(".csv"))


def iter_s3_lines(s3, data_location: str) -> Iterator[bytes]:
    """The lines (bytes, newline kept) of the CSV at `data_location`. For a prefix, every
    file after the first must repeat the first file's header, which is then skipped."""
    bucket, key = parse_s3_url(data_location)
    try:
        if key == "" or key.endswith("/"):
            keys = list_csv_keys(s3, bucket, key)
            if not keys:
                raise DataImportError(f"There are no .csv files under {data_location}.")
        else:
            keys = [key]
        header = None
        for name in keys:
            lines = _object_lines(s3, bucket, name)
            first = next(lines, None)
            if first is None:
                continue   # an empty part file adds nothing
            if header is None:
                header = first
                yield first
            elif _header_names(first) != _header_names(header):
                raise DataImportError(
                    f"s3://{bucket}/{name} has a different header from the first file under "
                    f"{data_location}; all files of one import must have the same columns.")
            yield from lines
        if header is None:
            raise DataImportError(f"{data_location} is empty.")
    except ClientError as error:
        raise DataImportError(_client_error_message(error, data_location)) from None
    except BotoCoreError as error:
        raise DataImportError(f"Could not read {data_location}: {error}") from None


def _object_lines(s3, bucket: str, key: str) -> Iterator[bytes]:
    """Lines of one object, newline kept, read in chunks so memory stays bounded."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    pending = b""
    try:
        while True:
            chunk = body.read(_CHUNK)
            if not chunk:
                break
            lines = (pending + chunk).splitlines(keepends=True)
            # A trailing '\r' may be the first half of '\r\n': keep it pending too.
            pending = lines.pop() if lines else b""
            yield from lines
        if pending:
            yield pending
    finally:
        body.close()


def _header_names(line: bytes) -> list[str]:
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff")
    return [name.strip().strip('"').upper() for name in text.strip().split(",")]


def _client_error_message(error: ClientError, location: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    if code in ("NoSuchBucket",):
        return f"The bucket for {location} does not exist."
    if code in ("NoSuchKey", "404", "NotFound"):
        return f"The file {location} does not exist."
    if code in ("AccessDenied", "403", "Forbidden"):
        return f"Access denied to {location}; check the role's S3 permissions."
    detail = error.response.get("Error", {}).get("Message") or str(error)
    return f"Could not read {location}: {detail}"
