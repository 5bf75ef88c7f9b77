"""S3's Signature Version 2 query strings (AWSAccessKeyId, Signature, Expires): what
boto3's generate_presigned_url still makes by default. The embedded S3 verifies them as
S3 does: HMAC-SHA1 over method, Content-MD5, Content-Type, Expires, x-amz-* headers and
the resource (path and the sub-resources that S3 signs)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from chalicelib.embedded.s3_errors import S3Error
from chalicelib.wire import sigv4
from chalicelib.wire.keyring import Keyring

# The query parameters S3 includes in the signed resource (botocore's QSAOfInterest).
SIGNED_SUBRESOURCES = {
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
    "policy", "requestPayment", "torrent", "versioning", "versionId", "versions",
    "website", "uploads", "uploadId", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
    "select", "select-type", "object-lock"}


def is_presigned_v2(query: dict[str, str]) -> bool:
    return "AWSAccessKeyId" in query and "Signature" in query


def string_to_sign(request: sigv4.Request, pairs, expires: str) -> str:
    headers = request.headers
    amz = "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers)
                  if name.startswith("x-amz-"))
    sub = sorted((name, value) for name, value in pairs if name in SIGNED_SUBRESOURCES)
    resource = request.raw_path + ("?" + "&".join(
        f"{name}={value}" if value else name for name, value in sub) if sub else "")
    return (f"{request.method.upper()}\n{headers.get('content-md5', '')}\n"
            f"{headers.get('content-type', '')}\n{expires}\n{amz}{resource}")


def authenticate(request: sigv4.Request, keyring: Keyring) -> str:
    """The caller's account; raises S3Error as S3 refuses a bad V2 query signature."""
    pairs = sigv4.query_pairs(request.raw_query)
    query = dict(pairs)
    access_key, expires = query["AWSAccessKeyId"], query.get("Expires", "")
    key = keyring.lookup(access_key)
    if key is None:
        if keyring.verifies:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided "
                          "does not exist in our records.", AWSAccessKeyId=access_key)
        return keyring.open_account(access_key)
    if not expires.isdigit():
        raise S3Error(403, "AccessDenied", "Query-string authentication requires the "
                      "Signature, Expires and AWSAccessKeyId parameters")
    now = dt.datetime.now(dt.timezone.utc)
    if int(expires) < now.timestamp():
        raise S3Error(403, "AccessDenied", "Request has expired", Expires=dt.datetime.fromtimestamp(
            int(expires), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    text = string_to_sign(request, pairs, expires)
    expected = base64.b64encode(hmac.new(key.secret.encode(), text.encode("utf-8"),
                                         hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected.encode(), query["Signature"].encode()):
        raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                      "does not match the signature you provided. Check your key and "
                      "signing method.", AWSAccessKeyId=access_key, StringToSign=text,
                      SignatureProvided=query["Signature"])
    return key.account_id
