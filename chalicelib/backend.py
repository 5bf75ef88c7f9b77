"""Wiring: which storage, artifact folder and S3 endpoint this process uses.

Built once per process (Lambda container, embedded server, training task) from Settings.
The composition roots that start background work (app.py, chalicelib/server.py) add a
chalicelib.tasks.Tasks; a training task has none.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3
from botocore.config import Config

from chalicelib.config import Settings
from chalicelib.records.registry import Registry
from chalicelib.storage.artifacts import LocalArtifacts
from chalicelib.storage.base import EventStore, ResourceStore
from chalicelib.storage.dynamodb import DynamoEventStore, DynamoResourceStore
from chalicelib.storage.s3_artifacts import use_s3_artifacts
from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore, SqliteResourceStore


@dataclass
class Backend:
    settings: Settings
    store: ResourceStore
    events: EventStore
    artifacts: LocalArtifacts
    registry: Registry
    tasks: object = None    # chalicelib.tasks.Tasks, set by the composition root

    @cached_property
    def _s3(self):
        local = self.settings.s3_endpoint_url is not None
        return boto3.client(
            "s3", endpoint_url=self.settings.s3_endpoint_url, region_name=self.settings.region,
            # A local endpoint (LocalStack, moto, our own) takes any credentials.
            aws_access_key_id="test" if local else None,
            aws_secret_access_key="test" if local else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))

    def s3_client(self):
        return self._s3


def build_stores(settings: Settings) -> tuple[ResourceStore, EventStore]:
    if settings.store == "dynamodb":
        table = boto3.resource("dynamodb", endpoint_url=settings.dynamodb_endpoint_url,
                               region_name=settings.region).Table(settings.dynamodb_table)
        return DynamoResourceStore(table), DynamoEventStore(table)
    database = SqliteDatabase(settings.data_dir / "personalize.sqlite3")
    return SqliteResourceStore(database), SqliteEventStore(database)


def build_backend(settings: Settings) -> Backend:
    store, events = build_stores(settings)
    backend = Backend(settings=settings, store=store, events=events,
                      artifacts=LocalArtifacts(settings.data_dir / "artifacts"),
                      registry=Registry(store, settings.settle_seconds))
    use_s3_artifacts(backend)  # serverless stages: imports and models live in S3
    return backend
