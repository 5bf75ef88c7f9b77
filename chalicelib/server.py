"""The embedded endpoint: `python -m chalicelib.server [--port 8642] [--data-dir .data]`.

Serves the three Personalize services through the same gateway as the Lambda handlers,
with state in SQLite and artifacts in a local folder. When no S3 endpoint is configured it
also answers S3 on the same port (chalicelib.embedded.s3: moto's S3 with the same
signature checks, buckets per account, kept in the data folder), so a newcomer needs no
other service. Requests are told apart by their shape (X-Amz-Target, the runtime and
events paths, /_personalize/...), never by the service they are signed for.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cheroot import wsgi
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from chalicelib.api import build_gateway
from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.console.app import Console, ConsoleRequest
from chalicelib.console.routes import is_console_path
from chalicelib.embedded import transport
from chalicelib.embedded.admin import AdminRoutes, is_admin_path
from chalicelib.errors import (RequestEntityTooLargeException, RequestTimeoutException,
                               ServiceError)
from chalicelib.scheduling.scheduler import AutoUpdateScheduler
from chalicelib.tasks import Tasks
from chalicelib.wire.gateway import HttpRequest
from chalicelib.keyring import KeyringError
from chalicelib.wire.router import is_personalize_request

log = logging.getLogger("chalicelib.server")

# Personalize requests are small (a schema is at most 10,000 characters); API Gateway's
# payload limit is 10 MB, and so is ours. S3 uploads to the embedded S3 are not limited.
MAX_BODY_BYTES = 10 * 1024 * 1024


def _headers(environ) -> dict[str, str]:
    """The request's headers by lower-case name, as WSGI hands them over (HTTP_X_AMZ_DATE
    is x-amz-date; Content-Type and Content-Length have no HTTP_ prefix)."""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


class EmbeddedApp:
    """WSGI: Personalize requests to the gateway, S3 requests to the embedded S3."""

    def __init__(self, gateway, s3_app=None, admin: AdminRoutes | None = None,
                 client_timeout: float = 10.0, console=None):
        self.gateway = gateway
        self.s3_app = s3_app
        self.admin = admin
        self.client_timeout = client_timeout
        self.console = console

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = environ.get("REQUEST_URI") or request.path
        raw_path, _, raw_query = raw.partition("?")
        http = HttpRequest(request.method, request.path, _headers(environ), b"",
                           raw_path=raw_path, raw_query=raw_query or environ.get(
                               "QUERY_STRING", ""))
        if self.console is not None and is_console_path(request.path):
            return self._console(request, environ, start_response)
        admin = is_admin_path(request.path)
        if (not admin and self.s3_app is not None
                and not is_personalize_request(http.method, http.path, http.headers,
                                               http.raw_query)):
            return self.s3_app(environ, start_response)
        result = self._personalize(environ, http, admin)
        # Answered straight through WSGI: werkzeug's Response and header objects cost
        # about as much as validating a PutEvents call, on every call.
        body = result.body
        start_response(f"{result.status} {HTTP_STATUS_CODES.get(result.status, 'UNKNOWN')}",
                       [*result.headers.items(), ("Content-Length", str(len(body)))])
        return [b"" if request.method == "HEAD" else body]

    def _personalize(self, environ, http: HttpRequest, admin: bool):
        try:
            identity = self.gateway.identify(http)  # from the headers, before any body
            body = self._read(environ)
        except transport.BodyTimeout:
            transport.close_connection(environ)
            return self.gateway.error_response(RequestTimeoutException(
                f"The request body did not arrive within {self.client_timeout:g} s."))
        except ServiceError as error:
            transport.close_connection(environ)  # the body is left unread
            return self.gateway.error_response(error)
        http.body = body
        if admin and self.admin is not None:
            return self.admin.handle(http, identity)
        return self.gateway.handle(http, identity)

    def _read(self, environ) -> bytes:
        """The body within its deadline (transport.read_body), at most MAX_BODY_BYTES."""
        body = transport.read_body(environ, self.client_timeout, MAX_BODY_BYTES)
        if body is None:
            raise RequestEntityTooLargeException(
                f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        return body.bytes()

    def _console(self, request: Request, environ, start_response):
        try:
            body = self._read(environ)
        except (transport.BodyTimeout, ServiceError):
            transport.close_connection(environ)
            body = b""
        result = self.console.handle(ConsoleRequest(
            request.method, request.path, dict(request.args.items()), dict(request.headers),
            body, secure=request.scheme == "https"))
        return Response(result.body, status=result.status, headers=result.all_headers())(
            environ, start_response)


def serve(host: str, port: int, settings: Settings) -> None:
    backend = build_backend(settings)
    try:
        keyring = backend.keyring
    except KeyringError as error:
        sys.exit(f"personalize: {error}")
    log.info("%s", keyring.describe())
    s3_app = None
    if settings.s3_endpoint_url is None:
        from chalicelib.embedded.s3 import EmbeddedS3
        s3_app = EmbeddedS3(keyring, settings.data_dir, settings.region,
                            settings.client_timeout_seconds)
        settings.s3_endpoint_url = f"http://{host}:{port}"
        settings.embedded_s3 = True
    backend.tasks = Tasks(backend)
    backend.tasks.recover()
    gateway = build_gateway(backend)
    scheduler = AutoUpdateScheduler(
        backend, settings.auto_update_seconds,
        after_round=gateway.providers["personalize-runtime"].engine.models.preload).start()
    app = EmbeddedApp(gateway, s3_app, AdminRoutes(gateway, scheduler),
                      settings.client_timeout_seconds, Console(gateway, backend))
    # HTTP/1.1 keep-alive, request threads from a pool that grows while all are busy
    # (slow clients hold theirs), TCP_NODELAY; a socket that sends nothing for
    # client_timeout_seconds is dropped. Bodies: see chalicelib.embedded.transport.
    server = wsgi.Server((host, port), app, numthreads=settings.server_threads,
                         max=max(settings.server_max_threads, settings.server_threads),
                         timeout=settings.client_timeout_seconds, server_name="personalize")
    server.gateway = transport.ClosingGateway
    server.prepare()  # bound and listening before "Ready" is printed
    pool = transport.ElasticPool(server)
    pool.start()
    log.info("Personalize endpoint on http://%s:%d (data in %s, S3 %s)", host, port,
             settings.data_dir, "embedded" if s3_app else settings.s3_endpoint_url)
    print(f"Ready on http://{host}:{port} (console: http://{host}:{port}/console)",
          flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pool.stop()
        server.stop()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8642)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--s3-endpoint-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if args.s3_endpoint_url:
        overrides["s3_endpoint_url"] = args.s3_endpoint_url
    try:
        settings = Settings.from_env(**overrides)
    except KeyringError as error:
        sys.exit(f"personalize: {error}")
    serve(args.host, args.port, settings)


if __name__ == "__main__":
    main()
