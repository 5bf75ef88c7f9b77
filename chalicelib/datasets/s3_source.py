"""Reading an import's CSV from S3 (a key, or every .csv under a prefix), line by line."""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.datasets.csv_import import DataImportError


def parse_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise DataImportError(f"{url} is not an s3:// location.")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def iter_s3_lines(s3, data_location: str):
    bucket, key = parse_s3_url(data_location)
    try:
        if key.endswith("/") or key == "":
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
            keys = sorted(o["Key"] for p in pages for o in p.get("Contents", [])
                          if o["Key"].endswith(".csv"))
            if not keys:
                raise DataImportError(f"No .csv files under {data_location}.")
        else:
            keys = [key]
        for index, name in enumerate(keys):
            body = s3.get_object(Bucket=bucket, Key=name)["Body"]
            lines = body.iter_lines(keepends=True)
            if index > 0:
                next(lines, None)  # every file repeats the header
            yield from lines
    except ClientError as error:
        raise DataImportError(f"Could not read {data_location}: "
                              f"{error.response['Error'].get('Message') or error}") from None
