"""The S3 artifact mirror against moto's S3 (moto_server fixture): what one process
writes and flushes, another pulls into its own folder."""
from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib.storage.s3_artifacts import S3Artifacts

ARN = "arn:aws:personalize:us-east-1:000000000000:solution/retail/abc123"


@pytest.fixture
def bucket(moto_server):
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"artifacts-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return s3, name


def test_trained_model_reaches_another_process(tmp_path, bucket):
    s3, name = bucket
    task = S3Artifacts(tmp_path / "task", s3, name)     # the ECS training task
    model = task.model_dir(ARN)
    model.mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00" * 1000)
    (model / "histories.json").write_text("{}")
    assert task.flush() == 2
    assert task.flush() == 0  # nothing changed since

    serving = S3Artifacts(tmp_path / "lambda", s3, name)  # a Lambda container
    folder = serving.model_dir(ARN)
    assert (folder / "weights.bin").read_bytes() == b"\x00" * 1000
    assert folder.relative_to(serving.root) == model.relative_to(task.root)

    (model / "histories.json").write_text('{"u": ["i"]}')  # an automatic update
    task.model_dir(ARN)
    assert task.flush() == 1
    assert (serving.model_dir(ARN) / "histories.json").read_text() == '{"u": ["i"]}'


def test_remove_deletes_the_s3_copy(tmp_path, bucket):
    s3, name = bucket
    artifacts = S3Artifacts(tmp_path, s3, name)
    folder = artifacts.dataset_dir("arn:aws:personalize:us-east-1:0:dataset/g/ITEMS")
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_text("ITEM_ID\n1\n")
    artifacts.flush()
    artifacts.remove(folder)
    assert not folder.exists()
    assert s3.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0
