"""The three service providers LocalStack's plugin manager loads (see pyproject.toml).

Each is an ASF Service whose dispatch table maps every operation of the service model to
one forwarder (sidecar.Sidecar.forward): LocalStack routes and parses the request as for
any service; the answer, errors included, is our endpoint's, byte for byte.
"""
from __future__ import annotations

from localstack.aws.spec import load_service
from localstack.services.plugins import Service, ServiceLifecycleHook, aws_provider

from personalize_localstack.sidecar import SIDECAR


def route_by_path() -> None:
    """All three services sign as `personalize`; LocalStack tells such services apart by
    the signing name's path-prefix rules (as for sagemaker and sagemaker-runtime). The
    data-plane paths come from the service models; everything else (the JSON control
    plane posts to /) is `personalize`."""
    from localstack.aws.protocol.service_router import signing_name_path_prefix_rules
    from localstack.aws.spec import ServiceModelIdentifier
    rules = {}
    for name in ("personalize-runtime", "personalize-events"):
        model = load_service(name)
        for operation in model.operation_names:
            uri = model.operation_model(operation).http["requestUri"].split("?", 1)[0]
            rules[uri] = ServiceModelIdentifier(name)
    rules["*"] = ServiceModelIdentifier("personalize")
    signing_name_path_prefix_rules["personalize"] = rules


route_by_path()


class SidecarProvider(ServiceLifecycleHook):
    """One Personalize service: holds the shared sidecar while LocalStack runs it."""

    def __init__(self, service: str):
        self.service = service

    def on_after_init(self):
        if self.service == "personalize":   # once, for the three
            from localstack.services.edge import ROUTER

            from personalize_localstack import schedule
            ROUTER.add(path=schedule.ROUTE, endpoint=schedule.route(SIDECAR),
                       methods=["POST"])

    def on_before_start(self):
        SIDECAR.acquire()

    def on_before_stop(self):
        SIDECAR.release()

    def forward(self, context, _request=None):
        return SIDECAR.forward(context)


def sidecar_service(name: str) -> Service:
    provider = SidecarProvider(name)
    operations = load_service(name).operation_names
    return Service.for_provider(
        provider, dispatch_table_factory=lambda p: {op: p.forward for op in operations})


@aws_provider(api="personalize")
def personalize():
    return sidecar_service("personalize")


@aws_provider(api="personalize-runtime")
def personalize_runtime():
    return sidecar_service("personalize-runtime")


@aws_provider(api="personalize-events")
def personalize_events():
    return sidecar_service("personalize-events")
