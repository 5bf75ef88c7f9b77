"""Raw HTTP to a running Endpoint: SigV4-signed (or not) requests with any body, headers
and content type, each with a client timeout so a hang fails the test instead of blocking."""
from __future__ import annotations

import json
from dataclasses import dataclass

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from chalicelib.wire.service_models import service_model

TIMEOUT = (5, 60)   # connect, read: a hang is a failure, never a stuck test


@dataclass
class Reply:
    status: int
    error_type: str | None
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def operation_target(service: str, operation) -> tuple[str, str, dict]:
    """(method, path, headers) that route `operation` of `service` as boto3 would."""
    model = service_model(service)
    if model.protocol == "json":
        return "POST", "/", {"X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation.name}",
                             "Content-Type": "application/x-amz-json-1.1"}
    return (operation.http["method"], operation.http["requestUri"].split("?")[0],
            {"Content-Type": "application/json"})


def signing_name(service: str) -> str:
    return service_model(service).metadata.get("signingName", service)


def send(url: str, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         sign_as: str | None = "personalize", region: str = "us-east-1",
         access_key: str = "testing", session: requests.Session | None = None,
         secret: str = "secret") -> Reply:
    """One request; `sign_as` is the SigV4 service name (None: unsigned)."""
    headers = dict(headers or {})
    if sign_as is not None:
        request = AWSRequest(method=method, url=url + path, data=body, headers=headers)
        SigV4Auth(Credentials(access_key, secret), sign_as, region).add_auth(request)
        headers = dict(request.headers.items())
    http = session or requests
    response = http.request(method, url + path, data=body, headers=headers, timeout=TIMEOUT)
    error_type = response.headers.get("x-amzn-ErrorType")
    if error_type is None and response.content.startswith(b"<?xml"):
        text = response.text  # the embedded S3's XML error
        error_type = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text \
            else None
    elif error_type is None and response.status_code >= 400:
        try:
            error_type = response.json().get("__type")
        except ValueError:
            error_type = None
    return Reply(response.status_code, error_type, response.content)


def call(url: str, service: str, operation_name: str, params: dict, **kwargs) -> Reply:
    """A well-formed JSON request for one operation (the body is `params` as JSON)."""
    operation = service_model(service).operation_model(operation_name)
    method, path, headers = operation_target(service, operation)
    return send(url, method, path, json.dumps(params).encode(), headers,
                sign_as=kwargs.pop("sign_as", signing_name(service)), **kwargs)
