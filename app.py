"""Chalice app: thin Lambda handlers. All protocol work is in chalicelib.wire."""
import json
import uuid
from urllib.parse import quote, urlencode

from chalice import Chalice, Rate, Response

from chalicelib import observability
from chalicelib.api import build_gateway
from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.console.routes import ROUTES as CONSOLE_ROUTES
from chalicelib.wire.gateway import HttpRequest
from chalicelib.wire.keyring import KeyringError
from chalicelib.wire.router import rest_paths

app = Chalice(app_name="personalize")
CONTENT_TYPES = ["application/x-amz-json-1.1", "application/json", "application/octet-stream"]
_built = None


def built():
    global _built
    if _built is None:  # built once per Lambda container, on first use
        observability.configure()
        backend = build_backend(Settings.from_env())
        gateway_ = build_gateway(backend)
        gateway_.on_response = _observe
        _built = gateway_, backend
    return _built


def _observe(context, response, seconds):
    """Gateway hook: one JSON log line and one EMF metrics line per request."""
    request = app.current_request
    observability.record_request(context, response, seconds,
                                 request.raw_body if request is not None else None)


def gateway():
    return built()[0]


def _handle() -> Response:
    request = app.current_request
    try:
        gateway_ = gateway()
    except KeyringError as error:  # closed by default: no keys, no service
        app.log.error("%s", error)
        return Response(body=json.dumps({
            "__type": "ServiceUnavailableException",
            "message": "This endpoint has no access keys configured and serves no requests."}),
            status_code=503, headers={"Content-Type": "application/x-amz-json-1.1",
                                      "x-amzn-ErrorType": "ServiceUnavailableException",
                                      "x-amzn-RequestId": str(uuid.uuid4())})
    route_path = request.context.get("resourcePath", "/")
    params = request.query_params or {}
    query = urlencode([(name, value) for name in params for value in (
        params.getlist(name) if hasattr(params, "getlist") else [params[name]])],
        quote_via=quote)
    # The signature covers the path the client sent: API Gateway's requestContext.path
    # keeps the stage (/api/...) that resourcePath drops.
    result = gateway_.handle(HttpRequest(
        request.method, route_path, dict(request.headers), request.raw_body or b"",
        raw_path=request.context.get("path") or route_path, raw_query=query))
    # Lambda answers API Gateway in JSON: a bytes body would not serialise (all three
    # services answer JSON text).
    body = result.body.decode("utf-8") if isinstance(result.body, bytes) else result.body
    return Response(body=body, status_code=result.status, headers=result.headers)


@app.route("/", methods=["POST"], content_types=CONTENT_TYPES)
def personalize():
    return _handle()


for _path in rest_paths():  # personalize-runtime and personalize-events
    app.route(_path, methods=["POST"], content_types=CONTENT_TYPES,
              name=_path.strip("/").replace("-", "_"))(_handle)


def _console() -> Response:
    """The web console (chalicelib/console), behind the same API Gateway stage."""
    from chalicelib.console.app import Console, ConsoleRequest
    request = app.current_request
    context = request.context or {}
    route, full = context.get("resourcePath", "/console"), context.get("path", "")
    gateway_, backend = built()
    result = Console(gateway_, backend).handle(ConsoleRequest(
        request.method, route, dict(request.query_params or {}), dict(request.headers),
        request.raw_body or b"", base=full[:-len(route)] if full.endswith(route) else "",
        secure=request.headers.get("x-forwarded-proto", "https") == "https"))
    return Response(body=result.body, status_code=result.status,
                    headers=result.all_headers())


# a GET has no Content-Type (Chalice reads that as JSON); the login form posts urlencoded
CONSOLE_CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded"]
for _path in CONSOLE_ROUTES:
    app.route("/console" + _path, methods=["GET", "POST"],
              content_types=CONSOLE_CONTENT_TYPES,
              name="console" + _path.replace("-", "_").replace("/", "_").replace(".", "_"))(
        _console)


@app.schedule(Rate(2, unit=Rate.HOURS))
def automatic_updates(event):
    """The two-hourly EventBridge rule: refresh every eligible campaign's model."""
    from chalicelib.scheduling.auto_update import run_automatic_updates
    backend = built()[1]
    updated = run_automatic_updates(backend)
    backend.artifacts.flush()  # the S3 mirror publishes the refreshed models
    return {"updated": updated}


# ECS emits this when a training task stops; only the 'ecs' runner acts on it. A task that
# crashed cannot record its own failure, so this is where CREATE FAILED comes from.
@app.on_cw_event({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                  "detail": {"lastStatus": ["STOPPED"],
                             "startedBy": ["personalize-training"]}})
def training_task_stopped(event):
    from chalicelib.training.ecs_runner import EcsRunner, task_seconds
    runner = built()[1].tasks.training
    if not isinstance(runner, EcsRunner):
        return {"solutionVersionArn": None}
    version = runner.task_stopped(event.detail)
    if version is None:
        return {"solutionVersionArn": None}
    observability.record_training(version["solutionVersionArn"], task_seconds(event.detail),
                                  version["status"] == "ACTIVE")
    return {"solutionVersionArn": version["solutionVersionArn"], "status": version["status"]}
