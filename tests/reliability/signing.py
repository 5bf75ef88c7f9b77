"""Requests signed by botocore's own SigV4 signer, then (for forgeries) altered, and sent
raw: what a hostile client can send that boto3 would not."""
from __future__ import annotations

import datetime as dt

import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIMEOUT = (5, 30)


class _SignedAt:
    """botocore's signer with a chosen clock (a stale or future X-Amz-Date)."""

    def __init__(self, signer, at: dt.datetime):
        self.signer, self.at = signer, at

    def add_auth(self, request):
        request.context["timestamp"] = self.at.strftime("%Y%m%dT%H%M%SZ")
        self.signer._modify_request_before_signing(request)
        canonical = self.signer.canonical_request(request)
        signature = self.signer.signature(self.signer.string_to_sign(request, canonical),
                                          request)
        self.signer._inject_signature_to_request(request, signature)


def signed_headers(method: str, url: str, body: bytes = b"", headers: dict | None = None, *,
                   key: str, secret: str, service: str = "personalize",
                   region: str = "us-east-1", at: dt.datetime | None = None) -> dict:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer_class = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = signer_class(Credentials(key, secret), service, region)
    (_SignedAt(signer, at) if at is not None else signer).add_auth(request)
    return dict(request.headers.items())


def personalize_headers(operation: str) -> dict:
    return {"X-Amz-Target": f"AmazonPersonalize.{operation}",
            "Content-Type": "application/x-amz-json-1.1"}


def send(method: str, url: str, body: bytes = b"", headers: dict | None = None):
    """(status, error code) of a raw request; the code from x-amzn-ErrorType, the JSON
    __type or S3's XML <Code>."""
    response = requests.request(method, url, data=body, headers=headers or {},
                                timeout=TIMEOUT)
    code = response.headers.get("x-amzn-ErrorType")
    if code is None and response.status_code >= 400:
        text = response.text
        if "<Code>" in text:
            code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
        else:
            try:
                code = response.json().get("__type")
            except ValueError:
                code = None
    return response.status_code, code, response
