"""AWS Signature Version 4, as a server checks it: the signed parts of a request are read
from the Authorization header or a presigned query string, the canonical request is
rebuilt from what the client sent (method, path and query as on the wire, the headers it
names, the payload hash), and the signature is recomputed and compared in constant time.

Nothing here knows a protocol's error format: a failed check raises AuthFailure with a
reason; the JSON gateway and the embedded S3 each answer it as AWS answers their clients.
Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Reason:
    """Why a request is not authenticated (each protocol names these its own way)."""
    MISSING = "missing"                  # no Authorization header and no presigned query
    MALFORMED = "malformed"              # a part is absent or mis-shaped
    UNKNOWN_KEY = "unknown-key"
    MISMATCH = "mismatch"                # the signature is not the one the secret gives
    SKEWED = "skewed"                    # X-Amz-Date more than 15 minutes off
    EXPIRED = "expired"                  # a presigned URL past its X-Amz-Expires
    WRONG_SERVICE = "wrong-service"
    BAD_REGION = "bad-region"
    PAYLOAD_MISMATCH = "payload-mismatch"   # body does not hash to x-amz-content-sha256


class AuthFailure(Exception):
    def __init__(self, reason: str, message: str, **details):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details


@dataclass
class Request:
    """What the client signed: method, path and query exactly as on the wire (percent-
    encoded), headers with lower-case names."""
    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]


@dataclass
class Signature:
    """The signed parts of one request, as the client stated them."""
    access_key: str
    date: str                   # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    amz_date: str               # X-Amz-Date
    presigned: bool = False
    expires: int | None = None  # presigned: X-Amz-Expires seconds
    query_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    @property
    def signed_at(self) -> dt.datetime:
        return _signed_at(self.amz_date).replace(tzinfo=dt.timezone.utc)


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """name=value pairs of a query string, decoded ('a' alone is ('a', ''))."""
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def read_signature(request: Request) -> Signature:
    """The signed parts from the Authorization header or the presigned query; raises
    AuthFailure (MISSING when the request carries no signature at all)."""
    header = request.headers.get("authorization")
    pairs = query_pairs(request.raw_query)
    query = dict(pairs)
    if header is None and "X-Amz-Algorithm" not in query:
        raise AuthFailure(Reason.MISSING, "Missing Authentication Token")
    if header is not None:
        return _from_header(header, request.headers, pairs)
    return _from_query(query, pairs)


def _from_header(header: str, headers: dict[str, str], pairs) -> Signature:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(Reason.MALFORMED, f"Unsupported authorization type: {algorithm!r}; "
                          f"sign requests with {ALGORITHM} (Signature Version 4).",
                          header=header)
    parts = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            parts[name] = value
    absent = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in parts]
    if absent:
        raise AuthFailure(Reason.MALFORMED, " ".join(
            f"Authorization header requires '{name}' parameter." for name in absent)
            + f" Authorization={header}", header=header)
    amz_date = headers.get("x-amz-date")
    if amz_date is None:
        raise AuthFailure(Reason.MALFORMED, "Authorization header requires existence of "
                          "either a 'X-Amz-Date' or a 'Date' header. "
                          f"Authorization={header}", header=header)
    signed = parts["SignedHeaders"].split(";")
    missing = [name for name in signed if name not in headers]
    if "host" not in signed or missing:
        raise AuthFailure(Reason.MALFORMED, "'Host' or ':authority' must be a 'SignedHeader' "
                          "in the AWS Authorization." if "host" not in signed else
                          f"Signed headers are missing from the request: {', '.join(missing)}.",
                          header=header)
    return _signature(parts["Credential"], signed, parts["Signature"], amz_date, pairs)


def _from_query(query: dict[str, str], pairs) -> Signature:
    absent = [name for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                                "X-Amz-Signature", "X-Amz-Expires") if name not in query]
    if query.get("X-Amz-Algorithm") != ALGORITHM or absent:
        raise AuthFailure(Reason.MALFORMED, "Query-string authentication version 4 requires "
                          "the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
                          "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
                          query=True)
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 <= expires <= MAX_PRESIGN_SECONDS:
        raise AuthFailure(Reason.MALFORMED, "X-Amz-Expires must be non-negative and less "
                          "than a week (604800 seconds).", query=True)
    signature = _signature(query["X-Amz-Credential"], query["X-Amz-SignedHeaders"].split(";"),
                           query["X-Amz-Signature"], query["X-Amz-Date"],
                           [p for p in pairs if p[0] != "X-Amz-Signature"])
    signature.presigned, signature.expires = True, expires
    return signature


def _signature(credential: str, signed: list[str], value: str, amz_date: str,
               pairs) -> Signature:
    fields = credential.split("/")
    if len(fields) != 5 or fields[4] != "aws4_request" or not fields[0]:
        raise AuthFailure(Reason.MALFORMED, "Credential should have 5 slash-separated parts "
                          "(<access key>/<YYYYMMDD>/<region>/<service>/aws4_request): "
                          f"{credential!r}.", credential=credential)
    try:
        signed_at = _signed_at(amz_date)
    except ValueError:
        raise AuthFailure(Reason.MALFORMED, f"X-Amz-Date must be in the ISO-8601 basic "
                          f"format YYYYMMDD'T'HHMMSS'Z': {amz_date!r}.") from None
    if fields[1] != signed_at.strftime("%Y%m%d"):
        raise AuthFailure(Reason.MALFORMED, "Date in Credential scope does not match YYYYMMDD "
                          "from ISO-8601 version of date from HTTP: "
                          f"'{fields[1]}' != '{signed_at:%Y%m%d}', from '{amz_date}'.")
    return Signature(fields[0], fields[1], fields[2], fields[3],
                     [h.strip().lower() for h in signed], value.strip(), amz_date,
                     query_pairs=list(pairs))


@lru_cache(maxsize=64)
def _signed_at(amz_date: str) -> dt.datetime:
    # strptime is the costliest step of reading a signature, and the requests of one
    # second share their X-Amz-Date (datetimes are immutable; errors are not cached)
    return dt.datetime.strptime(amz_date, _AMZ_DATE)


def check_time(signature: Signature, now: dt.datetime) -> None:
    """Header signatures: within 15 minutes of now. Presigned: not past X-Amz-Expires."""
    signed_at = signature.signed_at
    if signature.presigned:
        if now > signed_at + dt.timedelta(seconds=signature.expires or 0):
            raise AuthFailure(Reason.EXPIRED, "Request has expired",
                              expires=signed_at + dt.timedelta(seconds=signature.expires),
                              now=now, seconds=signature.expires)
        if signed_at - now > MAX_SKEW:
            raise AuthFailure(Reason.SKEWED, "Request is not yet valid", signed_at=signed_at,
                              now=now)
        return
    stamp = now.strftime(_AMZ_DATE)
    if signed_at < now - MAX_SKEW:
        raise AuthFailure(Reason.SKEWED, f"Signature expired: {signature.amz_date} is now "
                          f"earlier than {(now - MAX_SKEW).strftime(_AMZ_DATE)} "
                          f"({stamp} - 15 min.)", signed_at=signed_at, now=now)
    if signed_at > now + MAX_SKEW:
        raise AuthFailure(Reason.SKEWED, f"Signature not yet current: {signature.amz_date} "
                          f"is still later than {(now + MAX_SKEW).strftime(_AMZ_DATE)} "
                          f"({stamp} + 15 min.)", signed_at=signed_at, now=now)


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_path(raw_path: str, service: str) -> str:
    """S3 signs the path as sent; every other service signs it normalised and encoded
    once more (botocore and the AWS SDKs do the same)."""
    path = raw_path or "/"
    if service == "s3":
        return path
    segments = []
    for segment in path.split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in (".", ""):
            segments.append(segment)
    normalised = "/" + "/".join(segments)
    if path.endswith("/") and normalised != "/":
        normalised += "/"
    return quote(normalised, safe="/~")


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((_encode(name), _encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_request(request: Request, signature: Signature, payload_hash: str) -> str:
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n"
                      for name in signature.signed_headers)
    return "\n".join([request.method.upper(), canonical_path(request.raw_path,
                                                             signature.service),
                      canonical_query(signature.query_pairs), headers,
                      ";".join(signature.signed_headers), payload_hash])


def string_to_sign(signature: Signature, canonical: str) -> str:
    return "\n".join([ALGORITHM, signature.amz_date, signature.scope,
                      hashlib.sha256(canonical.encode("utf-8")).hexdigest()])


@lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def payload_hash(request: Request, signature: Signature, body: bytes | None) -> str:
    """The payload hash the client signed. S3 states it in x-amz-content-sha256 (or signs
    UNSIGNED-PAYLOAD in a presigned URL); the other services sign the body's SHA-256."""
    if signature.service == "s3":
        if signature.presigned:
            return request.headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD)
        stated = request.headers.get("x-amz-content-sha256")
        if stated is None:
            raise AuthFailure(Reason.MALFORMED, "Missing required header for this request: "
                              "x-amz-content-sha256", missing_header=True)
        return stated
    return hashlib.sha256(body or b"").hexdigest()


def verify(request: Request, signature: Signature, secret: str, body: bytes | None) -> None:
    """Recompute the signature with `secret`; raises AuthFailure(MISMATCH) when it differs.
    `body` is needed for services that sign the body's hash (all but S3)."""
    canonical = canonical_request(request, signature, payload_hash(request, signature, body))
    to_sign = string_to_sign(signature, canonical)
    expected = sign(signing_key(secret, signature.date, signature.region, signature.service),
                    to_sign)
    if not hmac.compare_digest(expected.encode(), signature.signature.encode()):
        raise AuthFailure(Reason.MISMATCH, "The request signature we calculated does not "
                          "match the signature you provided. Check your AWS Secret Access "
                          "Key and signing method. Consult the service documentation for "
                          "details.", canonical_request=canonical, string_to_sign=to_sign,
                          signature_provided=signature.signature,
                          access_key=signature.access_key)


def stated_payload_sha256(headers: dict[str, str]) -> str | None:
    """x-amz-content-sha256 when it is a hash of the body to check (not UNSIGNED-PAYLOAD
    or a STREAMING-* marker)."""
    value = headers.get("x-amz-content-sha256", "")
    return value if _HEX64.fullmatch(value) else None
