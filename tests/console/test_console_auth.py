"""The console is authenticated like the API: with keys configured only a logged-in
viewer gets in, a session shows its own account only, and a forged cookie is no session.
(With no keys configured it is open, as the API is: the page tests use that endpoint.)"""
from __future__ import annotations

import base64
import importlib.util
import http.client
import json
import urllib.parse

import boto3
import pytest
from botocore.config import Config

from chalicelib.console.session import COOKIE, KeyRing, Viewer
from tests.conftest import Endpoint

KEYS = {"AKIDCONSOLEA": ("console-secret-a", "111111111111"),
        "AKIDCONSOLEB": ("console-secret-b", "222222222222")}


# Where the endpoint verifies SigV4 (chalicelib/keyring.py) keys carry their secrets
# and the console's login checks them; before, a key id named its account.
SECRETS_KNOWN = importlib.util.find_spec("chalicelib.keyring") is not None


@pytest.fixture(scope="module")
def closed_endpoint(tmp_path_factory):
    keys = ",".join(f"{key}:{secret}:{account}" if SECRETS_KNOWN else f"{key}:{account}"
                    for key, (secret, account) in KEYS.items())
    server = Endpoint(tmp_path_factory.mktemp("console-auth"),
                      {"PERSONALIZE_ACCESS_KEYS": keys}).start()
    yield server
    server.stop()


def request(endpoint, method: str, path: str, body: dict | None = None,
            cookie: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=30)
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, data, headers)
    response = connection.getresponse()
    response.text = response.read().decode()
    return response


def login(endpoint, key: str) -> str:
    response = request(endpoint, "POST", "/console/login",
                       {"accessKeyId": key, "secretAccessKey": KEYS[key][0],
                        "region": "us-east-1"})
    assert response.status == 303, response.text
    cookie = response.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    return cookie.split(";", 1)[0].split("=", 1)[1]


def group_as(endpoint, key: str, name: str) -> str:
    client = boto3.client("personalize", endpoint_url=endpoint.url, region_name="us-east-1",
                          aws_access_key_id=key, aws_secret_access_key=KEYS[key][0],
                          config=Config(retries={"max_attempts": 1}))
    return client.create_dataset_group(name=name)["datasetGroupArn"]


def test_console_needs_a_login_when_keys_are_configured(closed_endpoint):
    response = request(closed_endpoint, "GET", "/console")
    assert response.status == 303 and response.getheader("Location") == "/console/login"
    assert request(closed_endpoint, "GET", "/console/event-tracker.json?arn=x").status == 401
    form = request(closed_endpoint, "GET", "/console/login")
    assert form.status == 200 and 'name="secretAccessKey"' in form.text
    unknown = request(closed_endpoint, "POST", "/console/login",
                      {"accessKeyId": "AKIDNOBODY", "secretAccessKey": "x"})
    assert unknown.status == 403 and "Set-Cookie" not in dict(unknown.getheaders())
    if SECRETS_KNOWN:
        wrong = request(closed_endpoint, "POST", "/console/login",
                        {"accessKeyId": "AKIDCONSOLEA", "secretAccessKey": "console-secret-b"})
        assert wrong.status == 403 and "Set-Cookie" not in dict(wrong.getheaders())


def test_a_session_sees_its_own_account_only(closed_endpoint):
    mine = group_as(closed_endpoint, "AKIDCONSOLEA", "console-auth-a")
    theirs = group_as(closed_endpoint, "AKIDCONSOLEB", "console-auth-b")
    cookie = login(closed_endpoint, "AKIDCONSOLEA")
    page = request(closed_endpoint, "GET", "/console", cookie=cookie)
    assert page.status == 200 and "console-auth-a" in page.text
    assert "console-auth-b" not in page.text and "account 111111111111" in page.text
    assert request(closed_endpoint, "GET", "/console/dataset-group?arn=" + mine,
                   cookie=cookie).status == 200
    other = request(closed_endpoint, "GET", "/console/dataset-group?arn=" + theirs,
                    cookie=cookie)
    assert other.status == 404 and "ResourceNotFoundException" in other.text
    assert "Solutions and versions" not in other.text   # the group's page is not shown


def test_a_forged_or_cleared_cookie_is_no_session(closed_endpoint):
    cookie = login(closed_endpoint, "AKIDCONSOLEA")
    body, signature = cookie.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["a"] = "222222222222"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    for token in (f"{forged}.{signature}", f"{body}.{'0' * 64}", "garbage", body):
        response = request(closed_endpoint, "GET", "/console", cookie=token)
        assert response.status == 303, token
    logout = request(closed_endpoint, "POST", "/console/logout", cookie=cookie)
    assert logout.status == 303 and "Max-Age=0" in logout.getheader("Set-Cookie")


def test_keyring_checks_secrets_and_signs_with_them():
    secrets = {key: value for key, value in KEYS.items()}
    ring = KeyRing(lambda key: secrets.get(key), open=False)
    assert ring.check("AKIDCONSOLEA", "console-secret-a") == "111111111111"
    assert ring.check("AKIDCONSOLEA", "console-secret-b") is None
    assert ring.check("AKIDNOBODY", "console-secret-a") is None
    token = ring.issue(Viewer("AKIDCONSOLEA", "111111111111", "eu-west-1"), now=1000.0)
    assert ring.verify(token, now=1001.0) == Viewer("AKIDCONSOLEA", "111111111111",
                                                    "eu-west-1")
    assert ring.verify(token, now=1000.0 + 9 * 3600) is None        # expired
    secrets["AKIDCONSOLEA"] = ("rotated", "111111111111")            # a new secret
    assert ring.verify(token, now=1001.0) is None
    del secrets["AKIDCONSOLEA"]                                      # the key is gone
    assert ring.verify(token, now=1001.0) is None
