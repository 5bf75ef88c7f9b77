"""The access keys this endpoint accepts, with their secrets and accounts.

`PERSONALIZE_ACCESS_KEYS=KEY:SECRET:ACCOUNT,...` lists them inline; the serverless stages
keep the same text in Secrets Manager (`PERSONALIZE_ACCESS_KEYS_SECRET_ID`) or an SSM
SecureString (`PERSONALIZE_ACCESS_KEYS_PARAMETER`), read again every few minutes so a
rotated key takes effect without a redeploy. No keys at all: the open mode of LocalStack,
any credentials are accepted (a 12-digit access key id names its own account).

The server's own S3 client (imports and batch jobs read the caller's buckets as the
caller's account) gets per-account service keys with random secrets that never leave
the process.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)

ACCOUNT_ID = re.compile(r"\d{12}")
_KEY_ID = re.compile(r"[A-Za-z0-9+/=._-]{1,128}")
_SERVICE_KEY_PREFIX = "PERSONALIZESVC"
FORMAT = "KEY:SECRET:ACCOUNT[,KEY:SECRET:ACCOUNT...] (ACCOUNT: 12 digits)"


class KeyringError(ValueError):
    """The configured keys cannot be used; the message says what to write instead."""


@dataclass(frozen=True)
class AccessKey:
    access_key: str
    secret: str
    account_id: str


def parse_keys(text: str, source: str = "PERSONALIZE_ACCESS_KEYS") -> dict[str, AccessKey]:
    """'AKID1:secret1:111111111111,AKID2:secret2:222222222222', or JSON: one object or a
    list of {"accessKeyId", "secretAccessKey", "accountId"} (what infra/stack.yaml's
    generated secret holds)."""
    text = text.strip()
    if text.startswith(("[", "{")):
        try:
            value = json.loads(text)
            items = [(i["accessKeyId"], i["secretAccessKey"], i["accountId"])
                     for i in (value if isinstance(value, list) else [value])]
        except (ValueError, KeyError, TypeError) as error:
            raise KeyringError(f"{source}: a JSON list of objects with accessKeyId, "
                               f"secretAccessKey and accountId was expected ({error}).") from None
    else:
        items = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            fields = entry.split(":")
            if len(fields) == 2:
                raise KeyringError(
                    f"{source}: '{fields[0]}:{fields[1]}' has no secret. Keys are now "
                    f"verified against their secrets: write {FORMAT}.")
            if len(fields) != 3:
                raise KeyringError(f"{source}: '{fields[0]}:...' is not {FORMAT}.")
            items.append(tuple(f.strip() for f in fields))
    keys = {}
    for key, secret, account in items:
        if not _KEY_ID.fullmatch(str(key)) or not secret or not ACCOUNT_ID.fullmatch(
                str(account)):
            raise KeyringError(f"{source}: '{key}' must be {FORMAT} with a non-empty secret.")
        keys[key] = AccessKey(key, secret, account)
    if not keys:
        raise KeyringError(f"{source} is set but lists no keys: write {FORMAT}.")
    return keys


class Keyring:
    """Which access keys are accepted. `load` returns the configured keys (None: open
    mode); with `refresh_seconds` it is called again at most that often (rotation)."""

    def __init__(self, load: Callable[[], dict[str, AccessKey] | None], default_account: str,
                 refresh_seconds: float | None = None):
        self._load = load
        self.default_account = default_account
        self.refresh_seconds = refresh_seconds
        self._keys = load()
        self._loaded_at = time.monotonic()
        self._service_keys: dict[str, AccessKey] = {}
        self._lock = threading.Lock()

    @classmethod
    def fixed(cls, keys: dict[str, AccessKey] | None, default_account: str) -> "Keyring":
        return cls(lambda: keys, default_account)

    @property
    def verifies(self) -> bool:
        """True when keys are configured: every signature is checked against its secret."""
        return self._current() is not None

    def _current(self) -> dict[str, AccessKey] | None:
        if (self.refresh_seconds is not None
                and time.monotonic() - self._loaded_at > self.refresh_seconds):
            with self._lock:
                if time.monotonic() - self._loaded_at > self.refresh_seconds:
                    try:
                        self._keys = self._load()
                    except Exception:  # keep serving with the keys we have
                        log.exception("could not reload the access keys; keeping the old ones")
                    self._loaded_at = time.monotonic()
        return self._keys

    def lookup(self, access_key: str) -> AccessKey | None:
        """The key's secret and account, or None when it is not one of ours."""
        service_key = self._service_keys.get(access_key)
        if service_key is not None:
            return service_key
        keys = self._current()
        return keys.get(access_key) if keys is not None else None

    def open_account(self, access_key: str) -> str:
        """Open mode: LocalStack's convention, a 12-digit key id names the account."""
        return access_key if ACCOUNT_ID.fullmatch(access_key) else self.default_account

    def service_key(self, account_id: str) -> AccessKey:
        """Credentials the server itself signs with to act as `account_id` (its S3 client)."""
        with self._lock:
            key = self._service_keys.get(f"{_SERVICE_KEY_PREFIX}{account_id}")
            if key is None:
                key = AccessKey(f"{_SERVICE_KEY_PREFIX}{account_id}", secrets.token_urlsafe(32),
                                account_id)
                self._service_keys[key.access_key] = key
            return key

    def describe(self) -> str:
        """One line for the startup log."""
        keys = self._current()
        if keys is None:
            return ("authentication: OPEN - no access keys configured, any credentials are "
                    "accepted (set PERSONALIZE_ACCESS_KEYS=KEY:SECRET:ACCOUNT,... to verify "
                    "signatures)")
        accounts = sorted({k.account_id for k in keys.values()})
        return (f"authentication: SigV4 signatures verified against {len(keys)} access "
                f"key(s) of {len(accounts)} account(s)")


def keys_from_aws(secret_id: str | None, parameter: str | None,
                  region: str) -> Callable[[], dict[str, AccessKey]]:
    """A loader for keys kept in Secrets Manager or an SSM SecureString parameter."""
    import boto3

    def load() -> dict[str, AccessKey]:
        if secret_id:
            client = boto3.client("secretsmanager", region_name=region)
            text = client.get_secret_value(SecretId=secret_id)["SecretString"]
            return parse_keys(text, f"secret {secret_id}")
        client = boto3.client("ssm", region_name=region)
        text = client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
        return parse_keys(text, f"parameter {parameter}")
    return load
