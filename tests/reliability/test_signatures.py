"""Hostile signatures (issue 13, points 1 and 5): with keys configured, every request's
SigV4 is recomputed from its secret. Wrong secrets, forged or truncated Authorization
headers, bodies or targets changed after signing, stale clocks, another service's scope
and regions that are not region names are refused with the errors AWS gives each protocol
(JSON services and S3), over HTTP with real boto3 clients and raw requests."""
from __future__ import annotations

import datetime as dt
import json
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.conftest import Endpoint
from tests.reliability.flows import keyed_endpoint
from tests.reliability.signing import personalize_headers, send, signed_headers

SECRETS = {"AKIDONE": ("one-secret", "111111111111"), "AKIDTWO": ("two-secret", "222222222222")}
KEYS = ",".join(f"{k}:{s}:{a}" for k, (s, a) in SECRETS.items())


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from keyed_endpoint(tmp_path_factory.mktemp("signatures"), KEYS)


def client(server, service, key="AKIDONE", secret=None, region="us-east-1", **config):
    return boto3.client(service, endpoint_url=server.url, region_name=region,
                        aws_access_key_id=key,
                        aws_secret_access_key=secret or SECRETS[key][0],
                        config=Config(retries={"max_attempts": 1}, **config))


def list_groups(server, key="AKIDONE", secret=None, body=b"{}", **kwargs):
    """Signed headers of a ListDatasetGroups request."""
    return signed_headers("POST", server.url + "/", body, personalize_headers(
        "ListDatasetGroups"), key=key, secret=secret or SECRETS[key][0], **kwargs)


def refused(call) -> ClientError:
    with pytest.raises(ClientError) as error:
        call()
    return error.value


# -- the JSON services ---------------------------------------------------------------
def test_the_right_secret_is_answered_for_all_three_services(server):
    assert client(server, "personalize").list_dataset_groups()["datasetGroups"] == []
    runtime = refused(lambda: client(server, "personalize-runtime").get_recommendations(
        campaignArn="arn:aws:personalize:us-east-1:111111111111:campaign/none", userId="u"))
    assert code(runtime) == "ResourceNotFoundException"  # authenticated, then not found
    events = refused(lambda: client(server, "personalize-events").put_events(
        trackingId="none", sessionId="s",
        eventList=[{"eventType": "click", "sentAt": 1700000000}]))
    assert code(events) == "ResourceNotFoundException"


def test_a_wrong_secret_is_refused(server):
    error = refused(lambda: client(server, "personalize", secret="not-it").list_dataset_groups())
    assert code(error) == "InvalidSignatureException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "signature we calculated does not match" in error.response["Error"]["Message"]
    # another key's secret is as wrong as any
    error = refused(lambda: client(server, "personalize-runtime", "AKIDONE",
                                   "two-secret").get_recommendations(
        campaignArn="arn:aws:personalize:us-east-1:111111111111:campaign/c", userId="u"))
    assert code(error) == "InvalidSignatureException"


FORGERIES = {
    "all-zero signature": lambda h: {**h, "Authorization": re.sub(
        r"Signature=\w+", "Signature=" + "0" * 64, h["Authorization"])},
    "no signature at all": lambda h: {**h, "Authorization": re.sub(
        r", SignedHeaders=.*", "", h["Authorization"])},
    "target changed after signing": lambda h: {
        **h, "X-Amz-Target": "AmazonPersonalize.DeleteDatasetGroup"},
    "signed header dropped from the list": lambda h: {**h, "Authorization": h[
        "Authorization"].replace(";x-amz-target", "")},
    "another algorithm": lambda h: {**h, "Authorization": h["Authorization"].replace(
        "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")},
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_authorization_headers_are_refused(server, forgery):
    headers = FORGERIES[forgery](list_groups(server))
    status, error, _ = send("POST", server.url + "/", b"{}", headers)
    assert status == 403, forgery
    assert error in ("InvalidSignatureException", "IncompleteSignatureException"), forgery


def test_a_credential_without_the_rest_is_incomplete(server):
    headers = list_groups(server)
    headers["Authorization"] = headers["Authorization"].split(",")[0]  # Credential=... only
    status, error, response = send("POST", server.url + "/", b"{}", headers)
    assert (status, error) == (403, "IncompleteSignatureException")
    assert "requires 'Signature'" in response.json()["message"]


def test_a_body_changed_after_signing_is_refused(server):
    headers = signed_headers("POST", server.url + "/", b'{"name": "mine"}', personalize_headers(
        "CreateDatasetGroup"), key="AKIDONE", secret="one-secret")
    status, error, _ = send("POST", server.url + "/", b'{"name": "theirs"}', headers)
    assert (status, error) == (403, "InvalidSignatureException")
    names = [g["name"] for g in
             client(server, "personalize").list_dataset_groups()["datasetGroups"]]
    assert "theirs" not in names


@pytest.mark.parametrize("minutes,phrase", [
    (None, "Signature expired"), (-16, "Signature expired"),
    (16, "Signature not yet current")], ids=["year-2000", "16-minutes-old", "16-minutes-ahead"])
def test_clock_skew_over_fifteen_minutes_is_refused(server, minutes, phrase):
    at = dt.datetime(2000, 1, 1) if minutes is None else now() + dt.timedelta(minutes=minutes)
    status, error, response = send("POST", server.url + "/", b"{}", list_groups(server, at=at))
    assert (status, error) == (403, "InvalidSignatureException")
    assert response.json()["message"].startswith(phrase)


def test_clock_skew_within_fifteen_minutes_is_accepted(server):
    for minutes in (-14, 14):
        headers = list_groups(server, at=now() + dt.timedelta(minutes=minutes))
        assert send("POST", server.url + "/", b"{}", headers)[0] == 200


def test_a_request_signed_for_s3_is_not_answered_as_personalize(server):
    status, error, response = send("POST", server.url + "/", b"{}",
                                   list_groups(server, service="s3"))
    assert (status, error) == (403, "InvalidSignatureException")
    assert "scoped to correct service: 'personalize'" in response.json()["message"]


def test_unknown_keys_and_unsigned_requests(server):
    error = refused(lambda: client(server, "personalize", "AKIDNOBODY", "x").list_recipes())
    assert code(error) == "UnrecognizedClientException"
    status, error, _ = send("POST", server.url + "/", b"{}",
                            personalize_headers("ListDatasetGroups"))
    assert (status, error) == (403, "MissingAuthenticationTokenException")


# -- regions (point 5) -----------------------------------------------------------------
@pytest.mark.parametrize("region", ["us-east-1:222222222222:x", "us-east-1/x", "", "US-EAST-1",
                                    "us-east-1 ", "moon-base-1", "cn-north-1"])
def test_a_region_that_is_not_a_region_name_is_refused(server, region):
    headers = signed_headers("POST", server.url + "/", b'{"name": "injected"}',
                             personalize_headers("CreateDatasetGroup"), key="AKIDONE",
                             secret="one-secret", region=region)
    status, error, response = send("POST", server.url + "/", b'{"name": "injected"}', headers)
    assert status == 403 and error in ("InvalidSignatureException",
                                       "IncompleteSignatureException"), (region, status, error)
    for key in SECRETS:  # nothing was created, in any account
        assert "injected" not in [g["name"] for g in client(server, "personalize", key)
                                  .list_dataset_groups()["datasetGroups"]]


def test_real_regions_form_arns_of_their_own(server):
    arn = client(server, "personalize", region="eu-central-2").create_dataset_group(
        name="zurich")["datasetGroupArn"]
    assert arn.startswith("arn:aws:personalize:eu-central-2:111111111111:dataset-group/")


def test_region_injection_is_refused_in_open_mode_too(tmp_path):
    endpoint = Endpoint(tmp_path).start()
    try:
        headers = signed_headers("POST", endpoint.url + "/", b'{"name": "x"}',
                                 personalize_headers("CreateDatasetGroup"), key="testing",
                                 secret="testing", region="us-east-1:222222222222:x")
        status, error, _ = send("POST", endpoint.url + "/", b'{"name": "x"}', headers)
        assert (status, error) == (403, "InvalidSignatureException")
        # open mode: any secret is accepted, as LocalStack accepts it
        assert endpoint.client("personalize").list_dataset_groups()["datasetGroups"] == []
    finally:
        endpoint.stop()
    assert "authentication: OPEN" in (tmp_path / "server.log").read_text()


# -- S3 --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bucket(server):
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="signed-bucket")
    s3.put_object(Bucket="signed-bucket", Key="data.csv", Body=b"USER_ID\nu1\n")
    return "signed-bucket"


def test_s3_refuses_wrong_secrets_unknown_keys_and_anonymous_callers(server, bucket):
    error = refused(lambda: client(server, "s3", secret="bad").list_buckets())
    assert (code(error), error.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "SignatureDoesNotMatch", 403)
    error = refused(lambda: client(server, "s3", "AKIDNOBODY", "x").list_buckets())
    assert code(error) == "InvalidAccessKeyId"
    status, error, _ = send("GET", f"{server.url}/{bucket}/data.csv")
    assert (status, error) == (403, "AccessDenied")


def test_s3_refuses_skew_and_other_services(server, bucket):
    url = f"{server.url}/{bucket}/data.csv"
    stale = signed_headers("GET", url, key="AKIDONE", secret="one-secret", service="s3",
                           at=now() - dt.timedelta(minutes=20))
    assert send("GET", url, headers=stale)[:2] == (403, "RequestTimeTooSkewed")
    as_personalize = signed_headers("GET", url, key="AKIDONE", secret="one-secret",
                                    service="personalize")
    status, error, response = send("GET", url, headers=as_personalize)
    assert (status, error) == (400, "AuthorizationHeaderMalformed")
    assert 'incorrect service "personalize"' in response.text
    bad_region = signed_headers("GET", url, key="AKIDONE", secret="one-secret", service="s3",
                                region="us-east-1:222222222222:x")
    assert send("GET", url, headers=bad_region)[:2] == (400, "AuthorizationHeaderMalformed")


def test_s3_body_must_match_its_stated_hash(server, bucket):
    url = f"{server.url}/{bucket}/swapped.csv"
    headers = signed_headers("PUT", url, b"USER_ID\nu1\n", key="AKIDONE", secret="one-secret",
                             service="s3")
    assert re.fullmatch(r"[0-9a-f]{64}", headers["X-Amz-Content-SHA256"])
    assert send("PUT", url, b"USER_ID\nevil\n", headers)[:2] == (
        400, "XAmzContentSHA256Mismatch")
    error = refused(lambda: client(server, "s3").head_object(Bucket=bucket, Key="swapped.csv"))
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # the same request, unchanged, is stored; so is one signed UNSIGNED-PAYLOAD
    assert send("PUT", url, b"USER_ID\nu1\n", headers)[0] == 200
    unsigned = signed_headers("PUT", url, b"x", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
                              key="AKIDONE", secret="one-secret", service="s3")
    assert send("PUT", url, b"x", unsigned)[0] == 200


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_urls_are_verified(server, bucket, version):
    s3 = client(server, "s3", signature_version=version)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "data.csv"})
    status, _, response = send("GET", url)
    assert (status, response.content) == (200, b"USER_ID\nu1\n")
    assert send("GET", url.replace("data.csv", "other.csv"))[:2] == (403,
                                                                       "SignatureDoesNotMatch")
    forged = client(server, "s3", secret="guess", signature_version=version)
    assert send("GET", forged.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "data.csv"}))[:2] == (
        403, "SignatureDoesNotMatch")
    expired = s3.generate_presigned_url("get_object", ExpiresIn=-60 if version == "s3"
                                        else 0, Params={"Bucket": bucket, "Key": "data.csv"})
    if version == "s3v4":  # X-Amz-Expires=0: valid for no second at all
        import time
        time.sleep(1.1)
    assert send("GET", expired)[:2] == (403, "AccessDenied")


def test_uploads_of_every_kind_verify(server, bucket, tmp_path):
    """boto3's multipart upload_file, checksummed put_object and copy all pass."""
    s3 = client(server, "s3")
    big = tmp_path / "big.bin"
    big.write_bytes(b"0123456789abcdef" * (1 << 20) + b"tail")  # 16 MB: multipart
    s3.upload_file(str(big), bucket, "big.bin")
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == big.stat().st_size
    s3.put_object(Bucket=bucket, Key="sum.csv", Body=b"a\n", ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="copy.csv", CopySource={"Bucket": bucket,
                                                              "Key": "sum.csv"})
    assert s3.get_object(Bucket=bucket, Key="copy.csv")["Body"].read() == b"a\n"


def test_the_old_key_format_refuses_to_start(tmp_path):
    endpoint = Endpoint(tmp_path, {"PERSONALIZE_ACCESS_KEYS": "AKID1:111111111111"})
    with pytest.raises(RuntimeError) as failed:
        endpoint.start()
    assert "KEY:SECRET:ACCOUNT" in str(failed.value)
    json.dumps(str(failed.value))
