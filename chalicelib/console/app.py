"""The console's HTTP side: routes under /console, the viewer's session, error pages.

Served by the embedded endpoint (chalicelib/server.py) and by the Chalice app (app.py),
both handing it a ConsoleRequest. Links are written as /console/...; behind an API
Gateway stage the `base` prefix is put in front of them.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from chalicelib.console import pages, routes
from chalicelib.console.html import esc, page
from chalicelib.console.reader import ConsoleReader
from chalicelib.console.session import (KeyRing, Viewer, clear_cookie, cookie_value,
                                        set_cookie)
from chalicelib.errors import ServiceError
from chalicelib.wire.auth import valid_region
from chalicelib.wire.service_models import error_status

log = logging.getLogger(__name__)
HTML_PAGES = dict(zip(routes.PAGES, (
    pages.overview, pages.dataset_group, pages.solution_version, pages.campaign, pages.why,
    pages.event_tracker)))
JSON_PAGES = dict(zip(routes.JSON_PAGES, (pages.event_tracker_json,)))
SECURITY_HEADERS = {
    # inline style and the one inline script of the tracker page; nothing from elsewhere
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class ConsoleRequest:
    method: str
    path: str                    # starts with /console
    query: dict[str, str]
    headers: dict[str, str]      # lower-case names
    body: bytes = b""
    base: str = ""               # what comes before /console in the browser's URL
    secure: bool = False         # https: the cookie gets Secure

    def __post_init__(self):
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", errors="replace")))


@dataclass
class ConsoleResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **SECURITY_HEADERS, **self.headers}


class Console:
    def __init__(self, gateway, backend):
        self.gateway = gateway
        self.backend = backend
        self.settings = backend.settings

    @property
    def keys(self) -> KeyRing:
        keyring = getattr(self.gateway, "keyring", None)   # verifying gateways hold one
        return KeyRing.from_keyring(keyring) if keyring is not None \
            else KeyRing.from_settings(self.settings)

    def handle(self, request: ConsoleRequest) -> ConsoleResponse:
        route = request.path[len(routes.PREFIX):].rstrip("/")
        try:
            response = self._route(route, request)
        except Exception:  # a bug of ours: a plain error page, never a trace
            log.exception("console failure on %s", request.path)
            response = ConsoleResponse(500, page("Something went wrong", "<p>The console "
                                                 "could not show this page.</p>"))
        if request.base:
            response.body = response.body.replace('="/console', f'="{esc(request.base)}'
                                                  "/console")
            for name in ("Location", "Set-Cookie"):
                if name in response.headers:
                    response.headers[name] = response.headers[name].replace(
                        "/console", request.base + "/console", 1)
        return response

    def _route(self, route: str, request: ConsoleRequest) -> ConsoleResponse:
        if route == "/login":
            return self._login(request)
        if route == "/logout":
            return ConsoleResponse(303, "", {"Location": "/console/login",
                                             "Set-Cookie": clear_cookie()})
        if route not in HTML_PAGES and route not in JSON_PAGES:
            return ConsoleResponse(404, page("Not found", "<p>No such console page.</p>"))
        if request.method not in ("GET", "HEAD"):
            return ConsoleResponse(405, page("Method not allowed", ""), {"Allow": "GET"})
        viewer = self.viewer(request)
        if viewer is None:
            if route in JSON_PAGES:
                return ConsoleResponse(401, json.dumps({"message": "log in first"}),
                                       content_type="application/json")
            return ConsoleResponse(303, "", {"Location": "/console/login"})
        reader = ConsoleReader(self.gateway, self.backend, viewer.account_id, viewer.region)
        try:
            if route in JSON_PAGES:
                return ConsoleResponse(200, json.dumps(JSON_PAGES[route](reader, request.query)),
                                       content_type="application/json")
            title, body, refresh = HTML_PAGES[route](reader, request.query)
            return ConsoleResponse(200, page(title, body, self._who(viewer), refresh))
        except ServiceError as error:
            # a page that names nothing is a 404 for a browser (json clients get 400)
            code = 404 if error.code == "ResourceNotFoundException" else \
                error_status("personalize", error.code)
            text = f'<p class="error">{esc(error.code)}: {esc(error.message)}</p>'
            if route in JSON_PAGES:
                return ConsoleResponse(code, json.dumps({"code": error.code,
                                                         "message": error.message}),
                                       content_type="application/json")
            return ConsoleResponse(code, page(error.code, text, self._who(viewer)))

    def viewer(self, request: ConsoleRequest) -> Viewer | None:
        keys = self.keys
        if keys.open:
            return Viewer(None, self.settings.account_id, self.settings.region)
        return keys.verify(cookie_value(request.headers))

    @staticmethod
    def _who(viewer: Viewer) -> str:
        who = f"account {esc(viewer.account_id)} · {esc(viewer.region)}"
        if viewer.access_key is None:
            return who + " · open (no keys configured)"
        return (who + f" · {esc(viewer.access_key)} "
                '<form method="post" action="/console/logout" style="display:inline">'
                '<button type="submit">log out</button></form>')

    # -- login -----------------------------------------------------------------------
    def _login(self, request: ConsoleRequest) -> ConsoleResponse:
        keys = self.keys
        if keys.open:
            return ConsoleResponse(303, "", {"Location": "/console"})
        if request.method == "POST":
            form = request.form()
            key = form.get("accessKeyId", "").strip()
            region = form.get("region", "").strip() or self.settings.region
            account = keys.check(key, form.get("secretAccessKey", ""))
            if not valid_region(region):   # it goes into ARNs: a region's name only
                return ConsoleResponse(400, page("Log in", _LOGIN_FORM.format(
                    message=f'<p class="error">{esc(region)} is not a region name.</p>',
                    region=esc(self.settings.region))))
            if account is not None:
                token = keys.issue(Viewer(key, account, region))
                return ConsoleResponse(303, "", {"Location": "/console",
                                                 "Set-Cookie": set_cookie(token,
                                                                          request.secure)})
            return ConsoleResponse(403, page("Log in", _LOGIN_FORM.format(
                message='<p class="error">Unknown access key or wrong secret.</p>',
                region=esc(region))))
        return ConsoleResponse(200, page("Log in", _LOGIN_FORM.format(
            message="", region=esc(self.settings.region))))


_LOGIN_FORM = """{message}<section><p>Sign in with an access key the API accepts
(<code>PERSONALIZE_ACCESS_KEYS</code>).</p>
<form method="post" action="/console/login">
<p><label>Access key id <input name="accessKeyId" autocomplete="username" required></label></p>
<p><label>Secret access key <input name="secretAccessKey" type="password"
 autocomplete="current-password"></label></p>
<p><label>Region <input name="region" value="{region}"></label></p>
<p><button type="submit">Log in</button></p></form></section>"""
