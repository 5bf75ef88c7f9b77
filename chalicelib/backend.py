"""Wiring: which storage, artifact folder, S3 endpoint and task runners this process uses.

Built once per process (Lambda container, embedded server, training task) from Settings.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import boto3
from botocore.config import Config

from chalicelib.config import Settings
from chalicelib.resources.registry import Registry
from chalicelib.storage.artifacts import LocalArtifacts
from chalicelib.storage.base import EventStore, ResourceStore
from chalicelib.storage.sqlite import SqliteDatabase, SqliteEventStore, SqliteResourceStore
from chalicelib.wire.keyring import FORMAT as KEY_FORMAT
from chalicelib.wire.keyring import Keyring, KeyringError, keys_from_aws


@dataclass
class Backend:
    settings: Settings
    store: ResourceStore
    events: EventStore
    artifacts: LocalArtifacts
    registry: Registry
    tasks: object = None    # chalicelib.tasks.Tasks, absent inside a training task
    _account_s3: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def keyring(self) -> Keyring:
        return build_keyring(self.settings)

    @cached_property
    def _s3(self):
        local = self.settings.s3_endpoint_url is not None
        return boto3.client(
            "s3", endpoint_url=self.settings.s3_endpoint_url, region_name=self.settings.region,
            # A local endpoint (LocalStack, moto) takes any credentials.
            aws_access_key_id="test" if local else None,
            aws_secret_access_key="test" if local else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))

    def s3_client(self, owner_arn: str | None = None):
        """The S3 client for work done for the resource `owner_arn` (an import or batch
        job). The embedded S3 keeps buckets per account: there the client signs as the
        job's account, so a job reads and writes only its own account's buckets."""
        account = account_of(owner_arn) if owner_arn else None
        if not self.settings.embedded_s3 or account is None:
            return self._s3
        with self._lock:
            client = self._account_s3.get(account)
            if client is None:
                key = self.keyring.service_key(account)
                client = boto3.client(
                    "s3", endpoint_url=self.settings.s3_endpoint_url,
                    region_name=self.settings.region, aws_access_key_id=key.access_key,
                    aws_secret_access_key=key.secret,
                    config=Config(s3={"addressing_style": "path"},
                                  retries={"max_attempts": 3}))
                self._account_s3[account] = client
            return client


def account_of(arn: str) -> str | None:
    """arn:aws:personalize:<region>:<account>:... -> <account>."""
    fields = arn.split(":")
    return fields[4] if len(fields) > 5 and fields[4] else None


def build_keyring(settings: Settings) -> Keyring:
    """The keys from the environment, Secrets Manager or SSM; KeyringError when the stage
    requires keys and none are configured (closed by default)."""
    if settings.access_keys_secret_id or settings.access_keys_parameter:
        load = keys_from_aws(settings.access_keys_secret_id, settings.access_keys_parameter,
                             settings.region)
        return Keyring(load, settings.account_id, settings.access_keys_refresh_seconds)
    if settings.access_keys is None and settings.require_access_keys:
        raise KeyringError(
            "PERSONALIZE_REQUIRE_ACCESS_KEYS is set but no access keys are configured: set "
            "PERSONALIZE_ACCESS_KEYS_SECRET_ID (Secrets Manager), "
            "PERSONALIZE_ACCESS_KEYS_PARAMETER (SSM SecureString) or PERSONALIZE_ACCESS_KEYS"
            f" to {KEY_FORMAT}. This endpoint refuses to serve unsigned traffic.")
    return Keyring.fixed(settings.access_keys, settings.account_id)


def build_stores(settings: Settings) -> tuple[ResourceStore, EventStore]:
    if settings.store == "dynamodb":
        from chalicelib.storage.dynamodb import DynamoEventStore, DynamoResourceStore
        table = boto3.resource("dynamodb", endpoint_url=settings.dynamodb_endpoint_url,
                               region_name=settings.region).Table(settings.dynamodb_table)
        return DynamoResourceStore(table), DynamoEventStore(table)
    database = SqliteDatabase(settings.data_dir / "personalize.sqlite3")
    return SqliteResourceStore(database), SqliteEventStore(database)


def build_backend(settings: Settings, with_tasks: bool = True) -> Backend:
    store, events = build_stores(settings)
    backend = Backend(settings=settings, store=store, events=events,
                      artifacts=LocalArtifacts(settings.data_dir / "artifacts"),
                      registry=Registry(store, settings.settle_seconds))
    from chalicelib.storage.s3_artifacts import use_s3_artifacts
    use_s3_artifacts(backend)  # serverless stages: imports and models live in S3
    if with_tasks:
        from chalicelib.tasks import Tasks
        backend.tasks = Tasks(backend)
    return backend
