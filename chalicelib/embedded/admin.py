"""Routes under /_personalize/: the embedded server's own, not part of AWS's API.

`POST /_personalize/automatic-updates` runs a round of automatic updates now, for the
caller's account and region only (tests, operators). Every route needs a verified
SigV4 signature (service `personalize`), like the services themselves.
"""
from __future__ import annotations

import json

from chalicelib.errors import ServiceError, UnknownOperationException
from chalicelib.wire.gateway import Gateway, HttpRequest
from chalicelib.wire.serializer import HttpResponse

PREFIX = "/_personalize/"
AUTO_UPDATE_PATH = PREFIX + "automatic-updates"


class MethodNotAllowedException(ServiceError):
    pass


def is_admin_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


class AdminRoutes:
    def __init__(self, gateway: Gateway, scheduler):
        self.gateway = gateway
        self.scheduler = scheduler   # chalicelib.scheduling.scheduler.AutoUpdateScheduler

    def handle(self, request: HttpRequest, identity=None) -> HttpResponse:
        try:
            caller = self.gateway.authenticate(request, identity)
            if request.path.rstrip("/") != AUTO_UPDATE_PATH:
                raise UnknownOperationException(f"No operation matches {request.path}")
            if request.method.upper() != "POST":
                raise MethodNotAllowedException(
                    f"{request.path} accepts POST only, not {request.method.upper()}.")
        except ServiceError as error:
            response = self.gateway.error_response(error)
            if error.code == "UnknownOperationException":
                response.status = 404
            elif error.code == "MethodNotAllowedException":
                response.status, response.headers["Allow"] = 405, "POST"
            return response
        updated = self.scheduler.trigger(
            f"arn:aws:personalize:{caller.region}:{caller.account_id}:")
        return HttpResponse(200, json.dumps({"updated": updated}).encode(),
                            {"Content-Type": "application/json"})
