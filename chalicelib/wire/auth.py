"""Who is calling: account and region from the SigV4 Authorization header.

We do not verify signatures against secrets (there are none to know locally), but a
request must be signed, and when access keys are configured only those are accepted —
as AWS refuses unsigned requests and unknown keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import MissingAuthenticationTokenException, UnrecognizedClientException

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_ACCOUNT_LIKE_KEY = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    region: str
    signing_service: str


def identify(headers: dict[str, str], default_account: str, default_region: str,
             known_keys: dict[str, str] | None) -> Caller:
    """known_keys: access key -> account id; None means any signed request is accepted."""
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    if match is None:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    access_key, _, region, service = match.groups()
    if known_keys is not None:
        if access_key not in known_keys:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid.")
        account = known_keys[access_key]
    elif _ACCOUNT_LIKE_KEY.fullmatch(access_key):
        account = access_key  # LocalStack's convention: a 12-digit key names the account
    else:
        account = default_account
    return Caller(access_key, account, region or default_region, service)
