"""The embedded server's own routes under /_personalize/ (issue 13, point 4): they need a
verified signature; a round of automatic updates acts on the caller's account only;
concurrent triggers coalesce; and serving does not wait for rounds: GetRecommendations
stays fast while sixteen triggers run in parallel."""
from __future__ import annotations

import os
import statistics
import threading
import time

import boto3
import pytest
from botocore.config import Config

from tests.api.builders import build_group, ready, train
from tests.conftest import Endpoint
from tests.reliability.http import send

KEYS = "AKIDONE:one-secret:111111111111,AKIDTWO:two-secret:222222222222"
SECRETS = {"AKIDONE": "one-secret", "AKIDTWO": "two-secret"}
PATH = "/_personalize/automatic-updates"


def client(endpoint, service, key="AKIDONE"):
    return boto3.client(service, endpoint_url=endpoint.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=SECRETS[key],
                        config=Config(retries={"max_attempts": 1}))


def trigger(endpoint, key="AKIDONE", method="POST", path=PATH, secret=None):
    return send(endpoint.url, method, path, access_key=key,
                secret=secret or SECRETS.get(key, "x"))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """Account one has an auto-updatable campaign; account two has nothing."""
    endpoint = Endpoint(tmp_path_factory.mktemp("admin"),
                        {"PERSONALIZE_ACCESS_KEYS": KEYS}).start()
    personalize = client(endpoint, "personalize")
    arns = build_group(personalize, client(endpoint, "s3"), "admin", with_items=True)
    _, version = train(personalize, arns["group"], "admin-sol", "aws-user-personalization",
                       solutionConfig={"algorithmHyperParameters": {"epochs": "1"}})
    campaign = personalize.create_campaign(name="admin-camp",
                                           solutionVersionArn=version)["campaignArn"]
    ready(lambda: personalize.describe_campaign(campaignArn=campaign), ["campaign", "status"])
    yield endpoint, version, campaign
    endpoint.stop()


def rounds_logged(endpoint) -> int:
    return (endpoint.data_dir / "server.log").read_text().count("automatic updates: ")


def test_admin_routes_need_a_verified_signature(deployed):
    endpoint, _, _ = deployed
    before = rounds_logged(endpoint)
    for method in ("POST", "GET", "PUT", "DELETE"):
        reply = send(endpoint.url, method, PATH, sign_as=None)
        assert (reply.status, reply.error_type) == (403, "MissingAuthenticationTokenException")
    assert trigger(endpoint, secret="wrong").error_type == "InvalidSignatureException"
    assert trigger(endpoint, key="AKIDNOBODY").error_type == "UnrecognizedClientException"
    assert (send(endpoint.url, "POST", "/_personalize/anything", sign_as=None).status
            == 403)
    assert trigger(endpoint, path="/_personalize/anything").status == 404
    assert trigger(endpoint, method="GET").status == 405
    assert rounds_logged(endpoint) == before  # none of these ran a round


def test_a_round_acts_on_the_callers_account_only(deployed):
    endpoint, version, campaign = deployed
    personalize = client(endpoint, "personalize")
    before = personalize.describe_campaign(campaignArn=campaign)["campaign"]
    other = trigger(endpoint, "AKIDTWO")
    assert other.status == 200 and other.json == {"updated": []}
    assert personalize.describe_campaign(campaignArn=campaign)["campaign"][
        "lastUpdatedDateTime"] == before["lastUpdatedDateTime"]
    own = trigger(endpoint, "AKIDONE")
    assert own.json == {"updated": [version]}


def test_parallel_triggers_coalesce_and_serving_does_not_wait(deployed):
    endpoint, version, campaign = deployed
    runtime = client(endpoint, "personalize-runtime")
    runtime.get_recommendations(campaignArn=campaign, userId="u1")  # model loaded
    baseline = []
    for _ in range(20):
        started = time.perf_counter()
        runtime.get_recommendations(campaignArn=campaign, userId="u1")
        baseline.append(time.perf_counter() - started)
    before = rounds_logged(endpoint)
    replies, latencies = [], []

    def one_trigger():
        replies.append(trigger(endpoint))

    threads = [threading.Thread(target=one_trigger) for _ in range(16)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        started = time.perf_counter()
        runtime.get_recommendations(campaignArn=campaign, userId="u1")
        latencies.append(time.perf_counter() - started)
    for thread in threads:
        thread.join()
    rounds = rounds_logged(endpoint) - before
    print(f"\n16 parallel triggers: {rounds} round(s); GetRecommendations meanwhile: "
          f"{len(latencies)} calls, p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms (alone: p50 "
          f"{statistics.median(baseline) * 1000:.1f} ms, max {max(baseline) * 1000:.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f})")
    assert all(r.status == 200 and r.json == {"updated": [version]} for r in replies)
    # triggers within the scheduler's gather window share a round; one arriving while
    # a round runs waits for the next: never a round per trigger
    assert 1 <= rounds <= 2
    # Serving shares the cores with the round's model update but never queues behind it
    # (the 16 triggers once held every request thread: a 23 s stall). A second covers a
    # busy shared machine; the measured numbers are printed.
    assert max(latencies) < max(1.0, 20 * statistics.median(baseline))
