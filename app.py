"""Chalice app: thin Lambda handlers. All protocol work is in chalicelib.wire."""
from chalice import Chalice, Response

from chalicelib.api import gateway_from_env
from chalicelib.wire.gateway import HttpRequest
from chalicelib.wire.router import rest_paths

app = Chalice(app_name="personalize")
CONTENT_TYPES = ["application/x-amz-json-1.1", "application/json", "application/octet-stream"]
_gateway = None


def gateway():
    global _gateway
    if _gateway is None:  # built once per Lambda container, on first use
        _gateway, _ = gateway_from_env()
    return _gateway


def _handle() -> Response:
    request = app.current_request
    result = gateway().handle(HttpRequest(request.method, request.context.get(
        "resourcePath", "/"), dict(request.headers), request.raw_body or b""))
    return Response(body=result.body, status_code=result.status, headers=result.headers)


@app.route("/", methods=["POST"], content_types=CONTENT_TYPES)
def personalize():
    return _handle()


for _path in rest_paths():  # personalize-runtime and personalize-events
    app.route(_path, methods=["POST"], content_types=CONTENT_TYPES,
              name=_path.strip("/").replace("-", "_"))(_handle)
