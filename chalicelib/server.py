"""The embedded endpoint: `python -m chalicelib.server [--port 8642] [--data-dir .data]`.

Serves the three Personalize services through the same gateway as the Lambda handlers,
with state in SQLite and artifacts in a local folder. When no S3 endpoint is configured it
also answers S3 on the same port (moto's S3 backend, in-process), routed by the SigV4
signing service of each request, so a newcomer needs no other service.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import uuid
from pathlib import Path

from cheroot import wsgi
from werkzeug.wrappers import Request, Response

from chalicelib.api import build_gateway
from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.console.app import Console, ConsoleRequest
from chalicelib.console.routes import is_console_path
from chalicelib.errors import RequestEntityTooLargeException
from chalicelib.scheduling.scheduler import AutoUpdateScheduler
from chalicelib.tasks import Tasks
from chalicelib.wire.gateway import HttpRequest
from chalicelib.wire.serializer import serialize_error

log = logging.getLogger("chalicelib.server")
_SIGNING_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")


def signing_service(headers) -> str | None:
    match = _SIGNING_SERVICE.search(headers.get("Authorization", ""))
    return match.group(1) if match else None


# Personalize requests are small (a schema is at most 10,000 characters); API Gateway's
# payload limit is 10 MB, and so is ours. S3 uploads to the embedded S3 are not limited.
MAX_BODY_BYTES = 10 * 1024 * 1024
_DRAIN_CHUNK = 1 << 20


# Not part of AWS's API: run one round of automatic updates now (tests, operators).
AUTO_UPDATE_PATH = "/_personalize/automatic-updates"


class EmbeddedApp:
    """WSGI: Personalize requests to the gateway, S3 requests to moto (when embedded)."""

    def __init__(self, gateway, s3_app=None, scheduler=None, console=None):
        self.gateway = gateway
        self.s3_app = s3_app
        self.scheduler = scheduler
        self.console = console

    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.s3_app is not None and signing_service(request.headers) == "s3":
            return self.s3_app(environ, start_response)
        if self.console is not None and is_console_path(request.path):
            return self._console(request, environ, start_response)
        if request.path == AUTO_UPDATE_PATH and self.scheduler is not None:
            updated = self.scheduler.run_now()
            return Response(json.dumps({"updated": updated}), mimetype="application/json")(
                environ, start_response)
        body = self._body(request, environ)
        if body is None:
            result = serialize_error("personalize", RequestEntityTooLargeException(
                f"The request body is larger than {MAX_BODY_BYTES} bytes."), str(uuid.uuid4()))
            result.status = 413
        else:
            result = self.gateway.handle(HttpRequest(
                request.method, request.path, dict(request.headers), body))
        return Response(result.body, status=result.status, headers=result.headers)(
            environ, start_response)

    def _console(self, request: Request, environ, start_response):
        body = self._body(request, environ)
        result = self.console.handle(ConsoleRequest(
            request.method, request.path, dict(request.args.items()), dict(request.headers),
            body or b"", secure=request.scheme == "https"))
        return Response(result.body, status=result.status, headers=result.all_headers())(
            environ, start_response)

    @staticmethod
    def _body(request: Request, environ) -> bytes | None:
        """The body, or None when it is over MAX_BODY_BYTES: then the rest is read and
        dropped in chunks (memory stays bounded, and the client gets its 413 instead of
        a reset connection). Chunked bodies (no Content-Length) are read the same way."""
        length = request.content_length
        if length is None and not environ.get("wsgi.input_terminated"):
            return b""
        stream, kept, size = environ["wsgi.input"], [], 0
        while length is None or size < length:
            want = _DRAIN_CHUNK if length is None else min(_DRAIN_CHUNK, length - size)
            chunk = stream.read(want)
            if not chunk:
                break
            size += len(chunk)
            if size <= MAX_BODY_BYTES:
                kept.append(chunk)
            elif kept:
                kept.clear()
        return b"".join(kept) if size <= MAX_BODY_BYTES else None


def embedded_s3_app():
    from moto.moto_server.werkzeug_app import create_backend_app
    return create_backend_app("s3")


def serve(host: str, port: int, settings: Settings) -> None:
    s3_app = None
    if settings.s3_endpoint_url is None:
        s3_app = embedded_s3_app()
        settings.s3_endpoint_url = f"http://{host}:{port}"
    backend = build_backend(settings)
    backend.tasks = Tasks(backend)
    backend.tasks.recover()
    scheduler = AutoUpdateScheduler(backend, settings.auto_update_seconds).start()
    gateway = build_gateway(backend)
    app = EmbeddedApp(gateway, s3_app, scheduler, Console(gateway, backend))
    # HTTP/1.1 keep-alive, a fixed pool of request threads, TCP_NODELAY; request bodies are
    # not limited here (uploads to the embedded S3 may be gigabytes: cheroot streams them),
    # the gateway's own 10 MB limit applies to Personalize requests (EmbeddedApp._body).
    server = wsgi.Server((host, port), app, numthreads=settings.server_threads,
                         server_name="personalize")
    server.prepare()  # bound and listening before "Ready" is printed
    log.info("Personalize endpoint on http://%s:%d (data in %s, S3 %s)", host, port,
             settings.data_dir, "embedded" if s3_app else settings.s3_endpoint_url)
    print(f"Ready on http://{host}:{port} (console: http://{host}:{port}/console)",
          flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
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
    serve(args.host, args.port, Settings.from_env(**overrides))


if __name__ == "__main__":
    main()
