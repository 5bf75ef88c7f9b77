"""Who is looking at the console: a signed session cookie, set by logging in with an
access key id and its secret, the same keys the API accepts.

A browser cannot sign each request with SigV4, so the login form checks the secret once
and hands out `personalize_console=<payload>.<signature>`: the payload names the key,
account, region and expiry; the signature is HMAC-SHA256 under the key's own secret. A
key removed from the configuration (or given a new secret) ends its sessions. With no
keys configured the API accepts any credentials, and the console is as open: every
visitor is the default account, no login needed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Callable
from http.cookies import SimpleCookie

COOKIE = "personalize_console"
SESSION_SECONDS = 8 * 3600
# Keys configured without a secret (the older KEY:ACCOUNT form) have nothing to sign with:
# their sessions are signed with this process's own secret and end when it restarts.
_PROCESS_SECRET = secrets.token_bytes(32)


@dataclass(frozen=True)
class Viewer:
    access_key: str | None     # None: open console (no keys configured)
    account_id: str
    region: str


class KeyRing:
    """The keys the API accepts, as the console needs them: `lookup(key)` gives the
    key's (secret or None, account), or None for an unknown key; `open`: no keys are
    configured, so neither the API nor the console asks for any."""

    def __init__(self, lookup: Callable[[str], tuple[str | None, str] | None], open: bool):
        self.lookup = lookup
        self.open = open

    @classmethod
    def from_settings(cls, settings) -> "KeyRing":
        """PERSONALIZE_ACCESS_KEYS as Settings holds it: key -> account (KEY:ACCOUNT), or
        key -> an access key with .secret and .account_id (KEY:SECRET:ACCOUNT)."""
        configured = settings.access_keys
        if configured is None:
            return cls(lambda key: None, True)
        return cls(lambda key: _entry(configured.get(key)), False)

    @classmethod
    def from_keyring(cls, keyring) -> "KeyRing":
        """The gateway's own keyring (reloaded as keys rotate): .verifies, .lookup(key)."""
        return cls(lambda key: _entry(keyring.lookup(key)), not keyring.verifies)

    def check(self, access_key: str, secret: str) -> str | None:
        """The key's account when `secret` is its secret, else None (constant time)."""
        found = self.lookup(access_key)
        if found is None:
            return None
        expected, account = found
        if expected is None:
            return account   # nothing to compare against: as the API, the key id decides
        return account if hmac.compare_digest(secret.encode(), expected.encode()) else None

    @staticmethod
    def _sign(found: tuple[str | None, str], body: str) -> str:
        secret = found[0]
        key = ("console:" + secret).encode() if secret is not None else _PROCESS_SECRET
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()

    def issue(self, viewer: Viewer, now: float | None = None) -> str:
        found = self.lookup(viewer.access_key)
        if found is None:
            raise ValueError(f"{viewer.access_key} is not a configured key")
        payload = json.dumps({"k": viewer.access_key, "a": viewer.account_id,
                              "r": viewer.region,
                              "e": int((now or time.time()) + SESSION_SECONDS)},
                             separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(found, body)}"

    def verify(self, token: str | None, now: float | None = None) -> Viewer | None:
        """The viewer a cookie names, if its signature holds under the key's current
        secret, it has not expired and the key still belongs to the same account."""
        if not token or token.count(".") != 1:
            return None
        body, signature = token.split(".")
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            access_key, account, region, expires = (payload["k"], payload["a"], payload["r"],
                                                    float(payload["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        found = self.lookup(access_key) if isinstance(access_key, str) else None
        if found is None or not hmac.compare_digest(signature, self._sign(found, body)):
            return None
        if expires < (now or time.time()) or found[1] != account:
            return None
        return Viewer(access_key, account, str(region))


def _entry(value) -> tuple[str | None, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return None, value
    return getattr(value, "secret", None), value.account_id


def cookie_value(headers: dict[str, str]) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed Cookie header is no session
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel else None


def set_cookie(token: str, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return (f"{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; "
            f"Max-Age={SESSION_SECONDS}{flags}")


def clear_cookie() -> str:
    return f"{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
