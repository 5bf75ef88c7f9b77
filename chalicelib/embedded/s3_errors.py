"""S3's XML error documents for requests the embedded S3 refuses before moto sees them."""
from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from chalicelib.wire.sigv4 import AuthFailure, Reason


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str, **fields):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def document(self) -> bytes:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>"
                        for name, value in self.fields.items())
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message>{extra}"
                f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>").encode()


def _stamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def from_auth_failure(failure: AuthFailure, default_region: str) -> S3Error:
    """The error S3 answers for each reason a signature check fails."""
    d, reason = failure.details, failure.reason
    malformed = ("AuthorizationQueryParametersError" if d.get("query")
                 else "AuthorizationHeaderMalformed")
    if reason == Reason.MISSING:
        return S3Error(403, "AccessDenied", "Access Denied")
    if reason == Reason.UNKNOWN_KEY:
        return S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does "
                       "not exist in our records.", AWSAccessKeyId=d["access_key"])
    if reason == Reason.MISMATCH:
        return S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                       "does not match the signature you provided. Check your key and "
                       "signing method.", AWSAccessKeyId=d["access_key"],
                       StringToSign=d["string_to_sign"],
                       SignatureProvided=d["signature_provided"],
                       CanonicalRequest=d["canonical_request"])
    if reason == Reason.SKEWED:
        return S3Error(403, "RequestTimeTooSkewed", "The difference between the request "
                       "time and the current time is too large.",
                       RequestTime=_stamp(d["signed_at"]), ServerTime=_stamp(d["now"]),
                       MaxAllowedSkewMilliseconds=900000)
    if reason == Reason.EXPIRED:
        return S3Error(403, "AccessDenied", "Request has expired", **{
            "X-Amz-Expires": d["seconds"], "Expires": _stamp(d["expires"]),
            "ServerTime": _stamp(d["now"])})
    if reason == Reason.WRONG_SERVICE:
        return S3Error(400, malformed, "The authorization header is malformed; incorrect "
                       f'service "{d["service"]}". This endpoint belongs to "s3".')
    if reason == Reason.BAD_REGION:
        return S3Error(400, malformed, "The authorization header is malformed; the region "
                       f"'{d['region']}' is wrong; expecting '{default_region}'",
                       Region=default_region)
    if reason == Reason.PAYLOAD_MISMATCH:
        return S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256'"
                       " header does not match what was computed.",
                       ClientComputedContentSHA256=d["stated"],
                       S3ComputedContentSHA256=d["computed"])
    if d.get("missing_header"):
        return S3Error(400, "InvalidRequest", failure.message)
    return S3Error(400, malformed, f"The authorization header is malformed; {failure.message}")
