"""The real services the suite relies on are really there, and the process helpers work."""
import sys
import uuid

import boto3
import pytest

from tests.support.services import ManagedProcess, free_port, wait_http


def _client(service, url):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_localstack_s3_put_get(localstack):
    s3 = _client("s3", localstack.endpoint_url)
    bucket = _name("external-check")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/k.csv", Body=b"USER_ID,ITEM_ID\nu1,i1\n")
    assert s3.get_object(Bucket=bucket, Key="dir/k.csv")["Body"].read() == \
        b"USER_ID,ITEM_ID\nu1,i1\n"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/k.csv"]


def test_localstack_eventbridge_rate_rule(localstack):
    events = _client("events", localstack.endpoint_url)
    rule = _name("external-check")
    arn = events.put_rule(Name=rule, ScheduleExpression="rate(2 hours)")["RuleArn"]
    described = events.describe_rule(Name=rule)
    assert described["ScheduleExpression"] == "rate(2 hours)"
    assert described["State"] == "ENABLED" and described["Arn"] == arn


def test_moto_server_dynamodb(moto_server):
    dynamodb = _client("dynamodb", moto_server.endpoint_url)
    table = _name("external-check")
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    dynamodb.put_item(TableName=table, Item={"k": {"S": "a"}, "v": {"N": "1"}})
    item = dynamodb.get_item(TableName=table, Key={"k": {"S": "a"}}, ConsistentRead=True)
    assert item["Item"] == {"k": {"S": "a"}, "v": {"N": "1"}}


def _http_server(tmp_path, port):
    return ManagedProcess([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                          tmp_path / "http.log", ready=f"http://127.0.0.1:{port}/",
                          ready_timeout=30, cwd=tmp_path)


def test_managed_process_restart_kill9_and_log(tmp_path):
    port = free_port()
    with _http_server(tmp_path, port) as server:
        first = server.pid
        assert server.alive
        server.restart()
        assert server.alive and server.pid != first
        wait_http(f"http://127.0.0.1:{port}/", timeout=5)
        assert server.kill9() == -9 and not server.alive
        server.restart()                        # a crashed process starts again
        assert server.alive and server.starts == 3
    assert not server.alive and server.returncode is not None
    assert server.log_path.read_text().count("=== start #") == 3


def test_managed_process_that_dies_reports_its_log(tmp_path):
    dying = ManagedProcess([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
                           tmp_path / "dying.log", ready=f"http://127.0.0.1:{free_port()}/",
                           ready_timeout=30)
    with pytest.raises(RuntimeError, match="boom"):
        dying.start()
    assert dying.returncode == 3
