"""The console in a real headless Chromium against the running endpoint: every page
renders what the API says, the training plot has one point per epoch, the try-it panel
answers exactly what GetRecommendations answers, the tracker page counts live.

With CONSOLE_SCREENSHOTS=docs/console the tests also refresh the README's screenshots.
"""
from __future__ import annotations

import html
import json
import os
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.api.builders import ROLE, build_group, ready, train

pytest_plugins = ["tests.support.browser"]

EPOCHS = 3
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def url(endpoint, page: str, **query) -> str:
    return f"{endpoint.url}/console{page}" + (
        "?" + urllib.parse.urlencode(query) if query else "")


def shoot(browser, address: str, name: str, tmp_path: Path) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    browser.screenshot(address, folder / f"{name}.png")


def texts(dom: str, css_class: str, tag: str = "span") -> list[str]:
    return [html.unescape(t) for t in
            re.findall(rf'<{tag} class="{css_class}">(.*?)</{tag}>', dom, re.S)]


@pytest.fixture(scope="module")
def deployed(personalize, runtime, events, s3):
    data = build_group(personalize, s3, "console-demo", with_items=True)
    group = data["group"]
    broken = personalize.create_dataset_import_job(
        jobName="console-missing-file", datasetArn=data["Interactions"], roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{data['bucket']}/no-such-file.csv"},
        importMode="INCREMENTAL")["datasetImportJobArn"]
    _, version = train(personalize, group, "console-demo-up", "aws-user-personalization",
                       solutionConfig={"algorithmHyperParameters": {"epochs": str(EPOCHS)}})
    campaigns = {}
    for name, weight in (("exploit", "0"), ("explore", "0.9")):
        arn = personalize.create_campaign(
            name=f"console-{name}", solutionVersionArn=version, campaignConfig={
                "itemExplorationConfig": {"explorationWeight": weight,
                                          "explorationItemAgeCutOff": "100000"}}
        )["campaignArn"]
        campaigns[name] = arn
    for arn in campaigns.values():
        ready(lambda: personalize.describe_campaign(campaignArn=arn), ["campaign", "status"])
    comedy = personalize.create_filter(
        name="console-comedy", datasetGroupArn=group,
        filterExpression='INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)')["filterArn"]
    ready(lambda: personalize.describe_filter(filterArn=comedy), ["filter", "status"])
    tracker = personalize.create_event_tracker(name="console-tracker", datasetGroupArn=group)
    ready(lambda: personalize.describe_event_tracker(
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])
    return {**data, "version": version, "campaigns": campaigns, "filter": comedy,
            "tracker": tracker, "broken": broken}


def test_overview_and_dataset_group(browser, endpoint, personalize, deployed, tmp_path):
    dom = browser.dom(url(endpoint, ""))
    assert "console-demo" in dom and "console-exploit" in dom and "console-tracker" in dom
    shoot(browser, url(endpoint, ""), "overview", tmp_path)

    deadline = time.time() + 60
    while personalize.describe_dataset_import_job(datasetImportJobArn=deployed["broken"])[
            "datasetImportJob"]["status"] not in ("ACTIVE", "CREATE FAILED"):
        assert time.time() < deadline
        time.sleep(0.05)
    reason = personalize.describe_dataset_import_job(datasetImportJobArn=deployed["broken"])[
        "datasetImportJob"]["failureReason"]
    address = url(endpoint, "/dataset-group", arn=deployed["group"])
    dom = browser.dom(address)
    assert "Interactions dataset: console-demo-Interactions" in dom
    assert "<b>1200</b> rows" in dom      # builders.interactions' default count
    assert "<b>60</b> rows" in dom        # one row per item
    assert "<code>GENRES</code>" in dom and "categorical" in dom
    assert html.escape(reason, quote=True) in dom
    assert "console-demo-up" in dom and "INCLUDE ItemID WHERE Items.GENRES" in dom
    shoot(browser, address, "dataset-group", tmp_path)


def test_training_plot_has_a_point_per_epoch(browser, endpoint, personalize, deployed,
                                             tmp_path):
    address = url(endpoint, "/solution-version", arn=deployed["version"])
    dom = browser.dom(address)
    losses = re.findall(r'<circle class="point" data-series="loss" data-x="(\d+)" '
                        r'data-y="([^"]+)"', dom)
    assert [int(x) for x, _ in losses] == list(range(1, EPOCHS + 1))
    assert all(float(y) > 0 for _, y in losses)
    assert len(re.findall(r'data-series="events/s" data-x=', dom)) == EPOCHS
    # the validation metric the trainer measures after each epoch (early stopping's)
    assert len(re.findall(r'data-series="validation ndcg@10" data-x=', dom)) == EPOCHS
    metrics = personalize.get_solution_metrics(solutionVersionArn=deployed["version"])[
        "metrics"]
    ndcg = metrics["normalized_discounted_cumulative_gain_at_10"]
    assert f"<td>normalized_discounted_cumulative_gain_at_10</td><td>{ndcg:.4f}</td>" in dom
    assert f"<td>epochs</td><td>{EPOCHS}</td><td>solutionConfig</td>" in dom
    shoot(browser, address, "solution-version", tmp_path)
    # what `make serve` printed while it trained: one line per epoch
    name = deployed["version"].rsplit("/", 1)[-1]
    printed = (endpoint.data_dir / "server.log").read_text()
    for epoch in range(1, EPOCHS + 1):
        assert re.search(rf"training {name}: epoch {epoch}/{EPOCHS}: loss [\d.]+, "
                         r"\d+ events/s, ETA \d+ s", printed), printed[-2000:]


def test_try_it_answers_what_get_recommendations_answers(browser, endpoint, runtime,
                                                         deployed, tmp_path):
    campaign = deployed["campaigns"]["exploit"]
    for user in ("u1", "u7"):
        expected = [i["itemId"] for i in runtime.get_recommendations(
            campaignArn=campaign, userId=user, numResults=10)["itemList"]]
        dom = browser.dom(url(endpoint, "/campaign", arn=campaign, userId=user,
                              numResults="10"))
        assert texts(dom, "item-id") == expected
        assert 'class="explore recommendation"' not in dom   # weight 0: no exploration
    values = {"GENRE": '"Comedy"'}
    expected = [i["itemId"] for i in runtime.get_recommendations(
        campaignArn=campaign, userId="u2", numResults=5, filterArn=deployed["filter"],
        filterValues=values)["itemList"]]
    dom = browser.dom(url(endpoint, "/campaign", arn=campaign, userId="u2", numResults="5",
                          filterArn=deployed["filter"], filterValues=json.dumps(values)))
    assert texts(dom, "item-id") == expected
    assert dom.count("GENRES=Comedy") == len(expected) == 5
    assert re.search(r'<option value="[^"]+" selected="">console-comedy</option>', dom)


def test_try_it_marks_exploration_slots(browser, endpoint, deployed, tmp_path):
    address = url(endpoint, "/campaign", arn=deployed["campaigns"]["explore"], userId="u3",
                  numResults="20")
    dom = browser.dom(address)
    assert len(texts(dom, "item-id")) == 20
    explored = dom.count('class="explore recommendation"')
    assert 0 < explored <= 20
    assert f"{explored} exploration slots" in dom
    shoot(browser, address, "campaign-try-it", tmp_path)


def test_try_it_reports_bad_input_as_the_api_does(browser, endpoint, deployed):
    dom = browser.dom(url(endpoint, "/campaign", arn=deployed["campaigns"]["exploit"],
                          userId="u1", filterArn=deployed["filter"],
                          filterValues="{not json"))
    assert "InvalidInputException" in dom and "filterValues must be a JSON object" in dom


def test_why_this_item(browser, endpoint, runtime, deployed, tmp_path):
    campaign = deployed["campaigns"]["exploit"]
    top = runtime.get_recommendations(campaignArn=campaign, userId="u4",
                                      numResults=1)["itemList"][0]["itemId"]
    address = url(endpoint, "/why", campaignArn=campaign, userId="u4", itemId=top)
    dom = browser.dom(address)
    assert re.search(r"it ranks <b>1</b> of \d+ items not in their history", dom)
    neighbours = re.search(r'<table class="neighbours-z">(.*?)</table>', dom, re.S).group(1)
    assert neighbours.count("<tr>") == 11 and top not in re.findall(r"<td>(i\d+)</td>",
                                                                     neighbours)
    history = re.search(r'<table class="history">(.*?)</table>', dom, re.S).group(1)
    assert len(re.findall(r"<td>(i\d+)</td>", history)) >= 1
    assert "E (item-ID embedding)" in dom and "F (metadata features)" in dom
    shoot(browser, address, "why-this-item", tmp_path)


def test_event_tracker_counts_live(browser, endpoint, events, deployed, tmp_path):
    tracker = deployed["tracker"]
    address = url(endpoint, "/event-tracker", arn=tracker["eventTrackerArn"])
    live = url(endpoint, "/event-tracker.json", arn=tracker["eventTrackerArn"])
    before = json.load(urllib.request.urlopen(live))["count"]
    events.put_events(trackingId=tracker["trackingId"], userId="u9", sessionId="s9",
                      eventList=[{"eventType": "click", "itemId": f"i{n}",
                                  "sentAt": time.time()} for n in (5, 6, 7)])
    summary = json.load(urllib.request.urlopen(live))
    assert summary["count"] == before + 3
    assert summary["latest"][0] == {"user": "u9", "events": [
        {"itemId": f"i{n}", "eventType": "click", "timestamp": pytest.approx(time.time(),
                                                                             abs=120)}
        for n in (5, 6, 7)]}
    # the page's own script refreshes the count: it ran in the browser when the element
    # carries the time of its last refresh
    dom = browser.dom(address, virtual_ms=5000)
    assert re.search(rf'<b id="event-count" data-refreshed="\d+">{before + 3}</b>', dom)
    assert "i5 (click), i6 (click), i7 (click)" in dom
    shoot(browser, address, "event-tracker", tmp_path)
