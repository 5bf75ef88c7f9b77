"""Chalice app: thin Lambda handlers. All protocol work is in chalicelib.wire."""
from chalice import Chalice, Rate, Response

from chalicelib.api import gateway_from_env
from chalicelib.wire.gateway import HttpRequest
from chalicelib.wire.router import rest_paths

app = Chalice(app_name="personalize")
CONTENT_TYPES = ["application/x-amz-json-1.1", "application/json", "application/octet-stream"]
_built = None


def built():
    global _built
    if _built is None:  # built once per Lambda container, on first use
        _built = gateway_from_env()
    return _built


def gateway():
    return built()[0]


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


@app.schedule(Rate(2, unit=Rate.HOURS))
def automatic_updates(event):
    """The two-hourly EventBridge rule: refresh every eligible campaign's model."""
    from chalicelib.scheduling.auto_update import run_automatic_updates
    return {"updated": run_automatic_updates(built()[1])}
