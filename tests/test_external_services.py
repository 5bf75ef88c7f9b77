"""The real services the suite relies on are really there."""
import boto3


def _client(service, url):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def test_localstack_s3_and_eventbridge(localstack):
    s3 = _client("s3", localstack.endpoint_url)
    s3.create_bucket(Bucket="external-check")
    s3.put_object(Bucket="external-check", Key="k", Body=b"v")
    assert s3.get_object(Bucket="external-check", Key="k")["Body"].read() == b"v"
    events = _client("events", localstack.endpoint_url)
    events.put_rule(Name="external-check", ScheduleExpression="rate(2 hours)")
    assert events.describe_rule(Name="external-check")["ScheduleExpression"] == "rate(2 hours)"


def test_moto_server_dynamodb(moto_server):
    dynamodb = _client("dynamodb", moto_server.endpoint_url)
    dynamodb.create_table(TableName="external-check", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    dynamodb.put_item(TableName="external-check", Item={"k": {"S": "a"}})
    assert dynamodb.get_item(TableName="external-check", Key={"k": {"S": "a"}})["Item"]
