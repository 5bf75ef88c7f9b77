"""Who is calling: the account and region of a SigV4-signed request, checked as AWS checks
them. `identify` does every check the headers allow (signature present and well formed,
service and region of its scope, key known, clock skew), so a request can be refused
before its body is read; `verify` then recomputes the signature over the body.

With keys configured (chalicelib.wire.keyring) every signature is verified against its
secret. Without, any credentials are accepted, as LocalStack accepts them, but the scope
is still checked: the region goes into ARNs, so it must be a region's name.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from chalicelib.errors import (IncompleteSignatureException, InvalidSignatureException,
                               MissingAuthenticationTokenException, ServiceError,
                               UnrecognizedClientException)
from chalicelib.wire import sigv4
from chalicelib.wire.keyring import AccessKey, Keyring
from chalicelib.wire.sigv4 import AuthFailure, Reason

# The regions of the commercial partition (arn:aws:...), the only one we form ARNs for:
# us-east-1, eu-central-2, ap-southeast-5, il-central-1, mx-central-1, ...
REGION = re.compile(
    r"(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|northwest|"
    r"southeast|southwest)-\d{1,2}")


def valid_region(name: str) -> bool:
    return bool(REGION.fullmatch(name))


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    region: str
    signing_service: str


@dataclass
class Identity:
    """A request that passed every check but the signature itself (which needs the body
    for services that sign its hash)."""
    caller: Caller
    signature: sigv4.Signature
    key: AccessKey | None     # None in open mode: nothing to verify against

    def verify(self, request: sigv4.Request, body: bytes | None) -> None:
        if self.key is not None:
            sigv4.verify(request, self.signature, self.key.secret, body)


def identify(request: sigv4.Request, service: str, keyring: Keyring,
             now: dt.datetime | None = None) -> Identity:
    """Raises AuthFailure. `service`: the signing name the request must be scoped to."""
    signature = sigv4.read_signature(request)
    if signature.service != service:
        raise AuthFailure(Reason.WRONG_SERVICE, "Credential should be scoped to correct "
                          f"service: '{service}'. ", service=signature.service)
    if not valid_region(signature.region):
        raise AuthFailure(Reason.BAD_REGION, "Credential should be scoped to a valid "
                          "region. ", region=signature.region)
    key = keyring.lookup(signature.access_key)
    if key is None and keyring.verifies:
        raise AuthFailure(Reason.UNKNOWN_KEY, "The security token included in the request "
                          "is invalid.", access_key=signature.access_key)
    if key is not None:  # open mode takes any clock, as LocalStack does
        sigv4.check_time(signature, now or dt.datetime.now(dt.timezone.utc))
    account = key.account_id if key is not None else keyring.open_account(
        signature.access_key)
    return Identity(Caller(signature.access_key, account, signature.region, service),
                    signature, key)


_JSON_ERRORS = {Reason.MISSING: MissingAuthenticationTokenException,
                Reason.MALFORMED: IncompleteSignatureException,
                Reason.UNKNOWN_KEY: UnrecognizedClientException}


def json_error(failure: AuthFailure) -> ServiceError:
    """The error the JSON services (personalize, -runtime, -events) answer with."""
    return _JSON_ERRORS.get(failure.reason, InvalidSignatureException)(failure.message)
