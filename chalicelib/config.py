"""Settings, from the environment, so Lambda, the embedded server and tests share them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.wire.keyring import AccessKey, parse_keys


def _keys(text: str | None) -> dict[str, AccessKey] | None:
    """PERSONALIZE_ACCESS_KEYS='AKID1:SECRET1:111111111111,AKID2:SECRET2:222222222222'.
    The old KEY:ACCOUNT form is refused (KeyringError): a key without its secret cannot
    be verified, and accepting it would leave the endpoint open while looking closed."""
    return parse_keys(text) if text and text.strip() else None


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes")


def _list(text: str | None) -> list[str]:
    """'subnet-1,subnet-2' -> ['subnet-1', 'subnet-2']."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


@dataclass
class Settings:
    data_dir: Path = Path(".data")
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # None: the embedded server answers S3 itself (moto's backend in-process).
    s3_endpoint_url: str | None = None
    # Set by the embedded server when it answers S3 itself (s3_endpoint_url is then its own).
    embedded_s3: bool = False
    # Seconds a new resource stays CREATE PENDING before it is ACTIVE (AWS takes minutes).
    settle_seconds: float = 0.2
    training_runner: str = "process"   # process | inline | ecs
    store: str = "sqlite"              # sqlite | dynamodb
    dynamodb_table: str = "personalize"
    dynamodb_endpoint_url: str | None = None
    # Access keys whose SigV4 signatures are verified (None: any credentials accepted).
    access_keys: dict[str, AccessKey] | None = None
    # Serverless stages: the same KEY:SECRET:ACCOUNT text kept in Secrets Manager (secret
    # id or ARN) or in an SSM SecureString parameter, re-read every refresh seconds.
    access_keys_secret_id: str | None = None
    access_keys_parameter: str | None = None
    access_keys_refresh_seconds: float = 300.0
    # Closed by default (the aws stage): refuse to start without keys configured.
    require_access_keys: bool = False
    auto_update_seconds: float = 7200.0
    # torch threads of a process that serves requests: a request is small work, and handing
    # it to a second core costs more than it saves when request threads run side by side.
    # Training tasks are their own processes with threads granted by the core scheduler.
    serving_threads: int = 1
    # The core scheduler's budget (chalicelib/training/cores.py): 0 = the CPUs this process
    # may use less `serving_reserved_cores`. None reserved (the default) leaves serving its
    # share by priority: training tasks run as SCHED_BATCH (at `training_nice`), so a
    # request thread that wakes takes a core from them at once, and no core idles while
    # nobody asks for recommendations (on two cores a reserved one would halve every
    # training). Niceness 0 keeps training's fair share against other work on the machine.
    training_cores: int = 0
    serving_reserved_cores: int = 0
    training_nice: int = 0
    # Versions created within this many seconds of each other start together, sharing the
    # cores, instead of one after the other.
    training_gather_seconds: float = 0.5
    # request threads of the embedded server (python -m chalicelib.server): connections are
    # kept alive, and a request waits for a free thread rather than starting its own.
    server_threads: int = 8
    # ... growing up to this many while every thread is busy (slow clients hold theirs).
    server_max_threads: int = 128
    # A client that sends nothing for this long is dropped; a body gets this long plus a
    # second per 64 KiB (chalicelib.embedded.transport).
    client_timeout_seconds: float = 10.0
    # Serverless stages: models and imports mirrored to s3://bucket/prefix (Lambda's disk
    # does not last and the ECS training task must see the same files). None: folder only.
    artifact_bucket: str | None = None
    artifact_prefix: str = "artifacts"
    # training_runner == 'ecs': where RunTask starts the training container.
    ecs_cluster: str = "personalize"
    ecs_task_definition: str = "personalize-training"
    ecs_container: str = "training"
    ecs_subnets: list[str] = field(default_factory=list)
    ecs_security_groups: list[str] = field(default_factory=list)
    ecs_endpoint_url: str | None = None
    metrics_namespace: str = "Personalize"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        settings = cls(
            data_dir=Path(env.get("PERSONALIZE_DATA_DIR", ".data")),
            region=env.get("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1")),
            account_id=env.get("PERSONALIZE_ACCOUNT_ID", "000000000000"),
            s3_endpoint_url=env.get("PERSONALIZE_S3_ENDPOINT_URL") or None,
            settle_seconds=float(env.get("PERSONALIZE_SETTLE_SECONDS", "0.2")),
            training_runner=env.get("PERSONALIZE_TRAINING_RUNNER", "process"),
            store=env.get("PERSONALIZE_STORE", "sqlite"),
            dynamodb_table=env.get("PERSONALIZE_DYNAMODB_TABLE", "personalize"),
            dynamodb_endpoint_url=env.get("PERSONALIZE_DYNAMODB_ENDPOINT_URL") or None,
            access_keys=_keys(env.get("PERSONALIZE_ACCESS_KEYS")),
            access_keys_secret_id=env.get("PERSONALIZE_ACCESS_KEYS_SECRET_ID") or None,
            access_keys_parameter=env.get("PERSONALIZE_ACCESS_KEYS_PARAMETER") or None,
            access_keys_refresh_seconds=float(env.get("PERSONALIZE_ACCESS_KEYS_REFRESH_SECONDS",
                                                      "300")),
            require_access_keys=_flag(env.get("PERSONALIZE_REQUIRE_ACCESS_KEYS")),
            auto_update_seconds=float(env.get("PERSONALIZE_AUTO_UPDATE_SECONDS", "7200")),
            serving_threads=int(env.get("PERSONALIZE_SERVING_THREADS", "1")),
            server_threads=int(env.get("PERSONALIZE_SERVER_THREADS", "8")),
            server_max_threads=int(env.get("PERSONALIZE_SERVER_MAX_THREADS", "128")),
            client_timeout_seconds=float(env.get("PERSONALIZE_CLIENT_TIMEOUT_SECONDS", "10")),
            training_cores=int(env.get("PERSONALIZE_TRAINING_CORES", "0")),
            serving_reserved_cores=int(env.get("PERSONALIZE_SERVING_RESERVED_CORES", "0")),
            training_nice=int(env.get("PERSONALIZE_TRAINING_NICE", "0")),
            training_gather_seconds=float(env.get("PERSONALIZE_TRAINING_GATHER_SECONDS",
                                                  "0.5")),
            artifact_bucket=env.get("PERSONALIZE_ARTIFACT_BUCKET") or None,
            artifact_prefix=env.get("PERSONALIZE_ARTIFACT_PREFIX", "artifacts"),
            ecs_cluster=env.get("PERSONALIZE_ECS_CLUSTER", "personalize"),
            ecs_task_definition=env.get("PERSONALIZE_ECS_TASK_DEFINITION",
                                        "personalize-training"),
            ecs_container=env.get("PERSONALIZE_ECS_CONTAINER", "training"),
            ecs_subnets=_list(env.get("PERSONALIZE_ECS_SUBNETS")),
            ecs_security_groups=_list(env.get("PERSONALIZE_ECS_SECURITY_GROUPS")),
            ecs_endpoint_url=env.get("PERSONALIZE_ECS_ENDPOINT_URL") or None,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "Personalize"),
        )
        for name, value in overrides.items():
            setattr(settings, name, value)
        return settings
