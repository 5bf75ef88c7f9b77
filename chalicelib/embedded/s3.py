"""The embedded S3: moto's S3 protocol in-process, behind the same SigV4 checks as the
Personalize services, with buckets owned by accounts and kept on disk.

- Every request is authenticated (chalicelib.wire.auth, scoped to service `s3`) and
  refused with S3's own XML errors; a body whose x-amz-content-sha256 is a hash must
  hash to it.
- moto keeps a backend per account: each request goes to its caller's, and moto's
  cross-account access is switched off, so another account's bucket answers 403
  AccessDenied and ListBuckets lists only the caller's own.
- Every change is written to the data folder before it is acknowledged (s3_store).
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
from pathlib import Path
from urllib.parse import unquote

from chalicelib.embedded import s3_sigv2, transport
from chalicelib.embedded.s3_errors import S3Error, from_auth_failure
from chalicelib.embedded.s3_store import DurableBuckets
from chalicelib.wire import auth, sigv4
from chalicelib.wire.keyring import Keyring

log = logging.getLogger(__name__)
_READS = ("GET", "HEAD", "OPTIONS")


def request_of(environ) -> sigv4.Request:
    """What the client signed: method, path and query as on the wire, headers."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    path, _, query = raw.partition("?")
    if "://" in path:  # an absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return sigv4.Request(environ["REQUEST_METHOD"], path, query or environ.get(
        "QUERY_STRING", ""), headers)


def bucket_of(raw_path: str) -> str | None:
    name = unquote(raw_path.lstrip("/").split("/", 1)[0])
    return name or None


class EmbeddedS3:
    def __init__(self, keyring: Keyring, data_dir: Path, default_region: str,
                 client_timeout: float):
        # One moto backend per account, no access across them; set before moto's S3 is
        # imported (and never taken from our own environment).
        os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"
        os.environ.pop("MOTO_ACCOUNT_ID", None)
        from moto.moto_server.werkzeug_app import create_backend_app
        self.moto = create_backend_app("s3")
        self.keyring = keyring
        self.default_region = default_region
        self.client_timeout = client_timeout
        self.store = DurableBuckets(data_dir / "s3")
        restored = self.store.restore()
        log.info("embedded S3: %d object(s) restored from %s", restored, self.store.root)

    def __call__(self, environ, start_response):
        request = request_of(environ)
        try:
            account = self._account(request)
            body = transport.read_body(environ, self.client_timeout)
            stated = sigv4.stated_payload_sha256(request.headers)
            if stated is not None and not hmac.compare_digest(stated,
                                                              body.sha256.hexdigest()):
                raise sigv4.AuthFailure(sigv4.Reason.PAYLOAD_MISMATCH, "payload hash",
                                        stated=stated, computed=body.sha256.hexdigest())
        except sigv4.AuthFailure as failure:
            return self._refuse(environ, start_response,
                                from_auth_failure(failure, self.default_region))
        except S3Error as error:
            return self._refuse(environ, start_response, error)
        except transport.BodyTimeout:
            return self._refuse(environ, start_response, S3Error(
                400, "RequestTimeout", "Your socket connection to the server was not read "
                "from or written to within the timeout period. Idle connections will be "
                "closed."))
        environ["wsgi.input"] = body.file
        environ["CONTENT_LENGTH"] = str(body.size)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        taken = self._taken_by_another(request, account)
        if taken is not None:
            return self._refuse(environ, start_response, taken)
        return self._forward(environ, start_response, request)

    def _taken_by_another(self, request: sigv4.Request, account: str) -> S3Error | None:
        """CreateBucket of a name another account holds: S3's answer is 409, not moto's
        AccessDenied (bucket names are global; the owner is not revealed)."""
        bucket = bucket_of(request.raw_path)
        if (request.method != "PUT" or bucket is None or request.raw_query
                or request.raw_path.strip("/") != bucket):
            return None
        owner = self.store.owner(bucket)
        if owner is None or owner == account:
            return None
        return S3Error(409, "BucketAlreadyExists", "The requested bucket name is not "
                       "available. The bucket namespace is shared by all users of the "
                       "system. Please select a different name and try again.",
                       BucketName=bucket)

    def _account(self, request: sigv4.Request) -> str:
        """The verified caller's account (SigV4 header or query, or S3's SigV2 query)."""
        if s3_sigv2.is_presigned_v2(dict(sigv4.query_pairs(request.raw_query))):
            return s3_sigv2.authenticate(request, self.keyring)
        identity = auth.identify(request, "s3", self.keyring)
        identity.verify(request, None)  # S3 signs the stated payload hash, not the body
        return identity.caller.account_id

    def _forward(self, environ, start_response, request: sigv4.Request):
        answered = {}

        def capture(status, headers, exc_info=None):
            answered.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None  # moto returns its body as the iterable

        chunks = list(self.moto(environ, capture))
        bucket = bucket_of(request.raw_path)
        if (request.method not in _READS and bucket is not None
                and answered["status"][:1] == "2"):
            self.store.sync(bucket)  # on disk before the client hears back
        start_response(answered["status"], answered["headers"], answered["exc_info"])
        return chunks

    @staticmethod
    def _refuse(environ, start_response, error: S3Error):
        transport.close_connection(environ)  # its body may still be on the wire: not read
        body = b"" if environ["REQUEST_METHOD"] == "HEAD" else error.document()
        start_response(f"{error.status} {error.code}", [
            ("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
            ("x-amz-request-id", dt.datetime.now().strftime("%H%M%S%f"))])
        return [body]
