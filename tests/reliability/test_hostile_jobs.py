"""Issue 13 points 7, 9 and 10 past the wire: background jobs meet hostile data.

- Batch inference input lines that are bad (not JSON, not UTF-8, a lone surrogate, NaN,
  missing or mistyped fields) are each reported in the output with an `error` and an empty
  output, as AWS writes them; the other lines are answered and the job completes.
- A dataset export of data with any (valid) Unicode completes.
- itemExplorationConfig: unknown keys and non-finite or out-of-range values are
  InvalidInputException and never stored or echoed.
- Failed imports leave no `.partial` file behind, and a restart removes stale ones.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import (ROLE, build_group, code, export, failed_deletion, read_lines,
                                ready, train)
from tests.conftest import Endpoint, wait_for
from tests.reliability import store
from tests.reliability.flows import event_tracker, restart
from tests.reliability.hostile import PYTHON_TEXT


@pytest.fixture(scope="module")
def setup(personalize, s3):
    built = build_group(personalize, s3, "hostile-jobs")
    _, built["version"] = train(personalize, built["group"], "hostile-jobs-popular",
                                "aws-popularity-count")
    return built


def run_inference(personalize, s3, setup, name, body: bytes) -> list[dict]:
    bucket, key = setup["bucket"], f"in/{name}.json"
    s3_path = f"s3://{bucket}/{key}"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    arn = personalize.create_batch_inference_job(
        jobName=name, solutionVersionArn=setup["version"], roleArn=ROLE, numResults=5,
        jobInput={"s3DataSource": {"path": s3_path}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/{name}/"}}
    )["batchInferenceJobArn"]
    status = wait_for(lambda: personalize.describe_batch_inference_job(
        batchInferenceJobArn=arn), ["batchInferenceJob", "status"], timeout=60)
    job = personalize.describe_batch_inference_job(batchInferenceJobArn=arn)
    assert status == "ACTIVE", job["batchInferenceJob"].get("failureReason")
    return read_lines(s3, bucket, f"out/{name}/{name}.json.out")


BAD_LINES = [
    (b"not json", "not valid JSON"),
    (b'{"userId": "caf\xe9"}', "UTF-8"),
    (b'{"userId": "\\ud800"}', "surrogate"),
    (b'{"userId": "u2", "weight": NaN}', "NaN"),
    (b'{"userId": "u2", "weight": 1e400}', "finite"),
    (b'["u1"]', "JSON object"),
    (b'{"user": "u3"}', "userId"),
    (b'{"userId": {"id": "u3"}}', "userId"),
    (b'{"userId": ""}', "userId"),
    (b'{"userId": "u4", "filterValues": ["x"]}', "filterValues"),
]


def test_bad_batch_lines_are_reported_per_line_and_the_job_completes(personalize, s3, setup):
    good = [b'{"userId": "u1"}', b'{"userId": "someone-new"}', b'{"userId": 7}']
    lines = [good[0]] + [line for line, _ in BAD_LINES] + [b"", b"   "] + good[1:]
    output = run_inference(personalize, s3, setup, "hostile-lines",
                           b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    assert len(output) == 1 + len(BAD_LINES) + 2   # blank lines are skipped
    answered = [output[0]] + output[-2:]
    for line in answered:
        assert line["error"] is None, line
        assert len(line["output"]["recommendedItems"]) == 5
        assert len(line["output"]["scores"]) == 5
    assert output[0]["input"] == {"userId": "u1"}
    for line, (_, words) in zip(output[1:-2], BAD_LINES):
        assert line["output"] == {"recommendedItems": []}, line
        assert words in line["error"], line
        assert not PYTHON_TEXT.search(line["error"]), line
    assert output[2]["input"] == '{"userId": "caf\\xe9"}'   # bytes shown, not lost


def test_export_of_unicode_data_completes(personalize, s3, events, endpoint, setup):
    """Any valid Unicode, and a lone surrogate stored by an older version (the wire now
    refuses them), written escaped instead of failing the export."""
    tracker = event_tracker(personalize, setup["group"], "hostile-jobs-tracker")
    names = ["caf\u00e9", "\U0001F600-smile", "\u65e5\u672c", "quote\"comma,"]
    for name in names:
        events.put_events(trackingId=tracker["trackingId"], userId=name, sessionId="s",
                          eventList=[{"eventType": "click", "itemId": name,
                                      "sentAt": 1_800_000_000}])
    store.insert_event(endpoint.data_dir, setup["group"], {
        "USER_ID": "legacy", "SESSION_ID": "s", "ITEM_ID": "old\ud800", "TIMESTAMP": 1.7e9,
        "EVENT_TYPE": "click"})
    _, _, rows = export(personalize, s3, setup, "hostile-export", "PUT")
    assert {r["ITEM_ID"] for r in rows} >= set(names) | {"old\\ud800"}


@pytest.mark.parametrize("exploration,words", [
    ({"explorationWeight": "0.3", "explorationSpeed": "9"}, "explorationSpeed"),
    ({"explorationweight": "0.3"}, "explorationweight"),
    ({"explorationItemAgeCutOff": "inf"}, "explorationItemAgeCutOff"),
    ({"explorationItemAgeCutOff": "nan"}, "explorationItemAgeCutOff"),
    ({"explorationItemAgeCutOff": "-1"}, "explorationItemAgeCutOff"),
    ({"explorationItemAgeCutOff": "1e400"}, "explorationItemAgeCutOff"),
    ({"explorationWeight": "1.5"}, "explorationWeight"),
    ({"explorationWeight": "-0.1"}, "explorationWeight"),
    ({"explorationWeight": "NaN"}, "explorationWeight"),
    ({"explorationWeight": "0_5"}, "explorationWeight")])
def test_item_exploration_config_is_checked_everywhere(personalize, setup, exploration,
                                                       words):
    config = {"itemExplorationConfig": exploration}
    calls = {
        "CreateCampaign": lambda: personalize.create_campaign(
            name="hostile-explore", solutionVersionArn=setup["version"],
            campaignConfig=config),
        "CreateBatchInferenceJob": lambda: personalize.create_batch_inference_job(
            jobName="hostile-explore", solutionVersionArn=setup["version"], roleArn=ROLE,
            batchInferenceJobConfig=config,
            jobInput={"s3DataSource": {"path": f"s3://{setup['bucket']}/in/x.json"}},
            jobOutput={"s3DataDestination": {"path": f"s3://{setup['bucket']}/out/x/"}})}
    for operation, request in calls.items():
        with pytest.raises(ClientError) as error:
            request()
        assert code(error.value) == "InvalidInputException", operation
        assert words in error.value.response["Error"]["Message"], operation
    assert not [c for c in personalize.list_campaigns()["campaigns"]
                if c["name"] == "hostile-explore"]


def test_a_valid_exploration_config_is_stored_as_given(personalize, setup):
    config = {"itemExplorationConfig": {"explorationWeight": "1", "explorationItemAgeCutOff":
                                        "0.5"}}
    arn = personalize.create_campaign(name="hostile-explore-ok",
                                      solutionVersionArn=setup["version"],
                                      campaignConfig=config)["campaignArn"]
    stored = personalize.describe_campaign(campaignArn=arn)["campaign"]["campaignConfig"]
    assert stored["itemExplorationConfig"] == config["itemExplorationConfig"]
    ready(lambda: personalize.describe_campaign(campaignArn=arn), ["campaign", "status"])
    with pytest.raises(ClientError) as error:
        personalize.update_campaign(campaignArn=arn, campaignConfig={
            "itemExplorationConfig": {"explorationWeight": "0.2", "bonus": "1"}})
    assert code(error.value) == "InvalidInputException"
    stored = personalize.describe_campaign(campaignArn=arn)["campaign"]["campaignConfig"]
    assert "bonus" not in stored["itemExplorationConfig"]


def partial_files(data_dir) -> list:
    return sorted((data_dir / "artifacts").rglob("*.partial"))


def test_failed_imports_leave_no_partial_files_and_restart_removes_stale_ones(
        tmp_path_factory):
    server = Endpoint(tmp_path_factory.mktemp("partial")).start()
    try:
        personalize, s3 = server.client("personalize"), server.client("s3")
        built = build_group(personalize, s3, "partial")
        s3.put_object(Bucket=built["bucket"], Key="bad.csv",
                      Body=b"USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n"
                           + b"u1,i1,click,1700000000,1.0\n" * 5000
                           + b"u1,i1,click,1700000000,NaN\n")
        job = personalize.create_dataset_import_job(
            jobName="partial-bad", datasetArn=built["Interactions"], roleArn=ROLE,
            importMode="INCREMENTAL",
            dataSource={"dataLocation": f"s3://{built['bucket']}/bad.csv"}
        )["datasetImportJobArn"]
        status = wait_for(lambda: personalize.describe_dataset_import_job(
            datasetImportJobArn=job), ["datasetImportJob", "status"], timeout=60)
        reason = personalize.describe_dataset_import_job(
            datasetImportJobArn=job)["datasetImportJob"]["failureReason"]
        assert status == "CREATE FAILED" and "line 5002" in reason.lower()
        assert partial_files(server.data_dir) == []
        folder = next((server.data_dir / "artifacts" / "datasets").iterdir())
        stale = folder / "0000-interrupted.partial"
        stale.write_text("USER_ID,ITEM_ID\nu1,i1\n")   # what a kill -9 mid-import leaves
        server = restart(server)
        assert partial_files(server.data_dir) == []
        assert [p.suffix for p in folder.iterdir()] == [".csv"]   # the good import stays
    finally:
        server.stop()


def test_a_deletion_file_that_is_not_utf8_fails_with_a_clear_reason(personalize, s3, setup):
    reason = failed_deletion(personalize, s3, setup, "hostile-latin1",
                             "USER_ID\nu1\nJos\u00e9\n".encode("latin-1"))
    assert "Line 3" in reason and "UTF-8" in reason and not PYTHON_TEXT.search(reason)
