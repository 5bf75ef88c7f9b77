"""Training on ECS (Settings.training_runner == 'ecs'): one Fargate task per solution version.

The container's entry point is `python -m chalicelib.training.task`; RunTask overrides
its command with the version's ARN and its environment with the thread grant: the task
definition's vCPUs, each Fargate task having its machine to itself (nothing queues here). The task records its own success or failure in the
store. What it cannot record — a crash, an out-of-memory kill, an image that never
started — is found here: from the ECS "Task State Change" event when the task stops
(app.py routes it to task_stopped), and by recover(), which asks DescribeTasks about every
version still running.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import cached_property

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.resources import kinds
from chalicelib.resources.registry import CREATE_FAILED
from chalicelib.resources.solutions import RUNNING, finish_version
from chalicelib.training.cores import thread_environment

log = logging.getLogger(__name__)

ARN_FLAG = "--solution-version-arn"
TASK_ARN_FIELD = "_ecsTaskArn"
# A version with no task yet may be between CreateSolutionVersion and RunTask in another
# Lambda; only after this long is it taken as lost.
START_GRACE_SECONDS = 900
DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks
CPU_UNITS_PER_VCPU = 1024


def task_vcpus(task_definition: dict) -> int | None:
    """vCPUs of a described task definition: its task-level cpu (units, or '1 vCPU' as the
    console writes it), else the sum of its containers' cpu; None when it gives neither."""
    cpu = task_definition.get("cpu")
    if cpu:
        text = str(cpu).strip().lower()
        if text.endswith("vcpu"):
            return max(1, int(float(text[:-4])))
        return max(1, int(text) // CPU_UNITS_PER_VCPU)
    units = sum(int(c.get("cpu") or 0) for c in task_definition.get("containerDefinitions", []))
    return max(1, units // CPU_UNITS_PER_VCPU) if units else None


def command_for(arn: str) -> list[str]:
    """The container command override: arguments to the image's entry point."""
    return [ARN_FLAG, arn]


def version_arn_of(task: dict) -> str | None:
    """The solution version a described task (or task state change event) trains."""
    for container in task.get("overrides", {}).get("containerOverrides", []):
        command = container.get("command") or []
        if ARN_FLAG in command[:-1]:
            return command[command.index(ARN_FLAG) + 1]
    return None


def failure_of(task: dict) -> str | None:
    """Why a STOPPED task failed, or None when it exited cleanly."""
    containers = task.get("containers") or []
    codes = [c.get("exitCode") for c in containers]
    if containers and all(code == 0 for code in codes):
        return None
    nonzero = [code for code in codes if code not in (0, None)]
    how = (f"exited with code {nonzero[0]}" if nonzero
           else "stopped before its container exited")
    return f"Training task {how}.{_stop_reasons(task)}"


def _stop_reasons(task: dict) -> str:
    """ECS's own words (container reason, stoppedReason, stopCode), or ''."""
    reasons = [c["reason"] for c in task.get("containers") or [] if c.get("reason")]
    reasons += [task[key] for key in ("stoppedReason", "stopCode") if task.get(key)]
    return f" {'; '.join(reasons)}"[:800] if reasons else ""


def task_seconds(task: dict) -> float:
    """How long the task ran (startedAt to stoppedAt: datetimes from boto3, ISO strings in
    EventBridge events); 0 when it never started."""
    def moment(value):
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value
    started, stopped = moment(task.get("startedAt")), moment(task.get("stoppedAt"))
    return (stopped - started).total_seconds() if started and stopped else 0.0


class EcsRunner:
    def __init__(self, backend, ecs_client=None):
        self.backend = backend
        self.settings = backend.settings
        if ecs_client is not None:
            self.ecs = ecs_client

    @cached_property
    def ecs(self):
        return boto3.client("ecs", endpoint_url=self.settings.ecs_endpoint_url,
                            region_name=self.settings.region)

    @cached_property
    def threads(self) -> int | None:
        """The task definition's vCPUs (asked once); None leaves the task to count its
        own cores."""
        try:
            described = self.ecs.describe_task_definition(
                taskDefinition=self.settings.ecs_task_definition)["taskDefinition"]
        except (ClientError, BotoCoreError) as error:
            log.warning("DescribeTaskDefinition %s: %s", self.settings.ecs_task_definition,
                        error)
            return None
        return task_vcpus(described)

    def _run_task_args(self, arn: str) -> dict:
        container = {"name": self.settings.ecs_container, "command": command_for(arn)}
        if self.threads:
            container["environment"] = [{"name": name, "value": value} for name, value
                                        in thread_environment(self.threads).items()]
        args = {
            "cluster": self.settings.ecs_cluster,
            "taskDefinition": self.settings.ecs_task_definition,
            "count": 1,
            "launchType": "FARGATE",
            "startedBy": "personalize-training",
            "overrides": {"containerOverrides": [container]},
        }
        if self.settings.ecs_subnets:  # Fargate tasks need a network (awsvpc)
            args["networkConfiguration"] = {"awsvpcConfiguration": {
                "subnets": self.settings.ecs_subnets,
                "securityGroups": self.settings.ecs_security_groups,
                # Public subnets: the task reaches ECR, S3 and DynamoDB without a NAT.
                "assignPublicIp": "ENABLED"}}
        return args

    def start(self, arn: str) -> None:
        try:
            response = self.ecs.run_task(**self._run_task_args(arn))
        except (ClientError, BotoCoreError) as error:
            self._fail(arn, f"Could not start the training task: {error}")
            return
        if response.get("failures") or not response.get("tasks"):
            reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip()
                                for f in response.get("failures", [])) or "no task started"
            self._fail(arn, f"Could not start the training task: {reasons}")
            return
        task_arn = response["tasks"][0]["taskArn"]
        log.info("training %s on ECS task %s", arn, task_arn)
        self.backend.registry.update(kinds.SOLUTION_VERSION, arn,
                                     lambda doc: doc.update({TASK_ARN_FIELD: task_arn}))

    def stop(self, arn: str) -> None:
        version = self.backend.registry.find(kinds.SOLUTION_VERSION, arn) or {}
        task_arn = version.get(TASK_ARN_FIELD)
        if task_arn:
            try:
                self.ecs.stop_task(cluster=self.settings.ecs_cluster, task=task_arn,
                                   reason="StopSolutionVersionCreation")
            except ClientError as error:  # already gone: the stop stands all the same
                log.warning("StopTask %s: %s", task_arn, error)
        # Nothing watches the task from Lambda: settle now (CREATE STOPPING -> STOPPED).
        finish_version(self.backend.registry, arn, CREATE_FAILED, "stopped")

    def task_stopped(self, task: dict) -> dict | None:
        """A STOPPED task, as DescribeTasks or the ECS state change event shows it: a
        failure marks its version CREATE FAILED. Returns the version as it now stands
        (None when the task is not one of ours or the version is gone)."""
        arn = version_arn_of(task)
        if arn is None:
            return None
        # A clean exit has already recorded ACTIVE (or its own failure), which
        # finish_version keeps; a version still running then was left unfinished.
        reason = failure_of(task) or ("Training task ended without recording a result."
                                      + _stop_reasons(task))
        finish_version(self.backend.registry, arn, CREATE_FAILED, reason)
        return self.backend.registry.find(kinds.SOLUTION_VERSION, arn)

    def recover(self) -> None:
        """Settle every running version whose task has stopped or is unknown to ECS."""
        running = [v for v in self.backend.store.list(kinds.SOLUTION_VERSION.key)
                   if v["status"] in RUNNING]
        by_task = {v[TASK_ARN_FIELD]: v for v in running if v.get(TASK_ARN_FIELD)}
        for version in running:
            if (not version.get(TASK_ARN_FIELD)
                    and time.time() - version["creationDateTime"] > START_GRACE_SECONDS):
                self._fail(version["solutionVersionArn"],
                           "Training was interrupted before its task started.")
        task_arns = list(by_task)
        for start in range(0, len(task_arns), DESCRIBE_BATCH):
            batch = task_arns[start:start + DESCRIBE_BATCH]
            described = self.ecs.describe_tasks(cluster=self.settings.ecs_cluster,
                                                tasks=batch)
            for task in described.get("tasks", []):
                if task.get("lastStatus") == "STOPPED":
                    self.task_stopped(task)
            for missing in described.get("failures", []):
                version = by_task.get(missing.get("arn"))
                if version is not None:  # ECS forgets stopped tasks after about an hour
                    self._fail(version["solutionVersionArn"],
                               f"Training task {missing.get('arn')} is gone: "
                               f"{missing.get('reason', 'MISSING')}.")

    def _fail(self, arn: str, reason: str) -> None:
        log.error("solution version %s: %s", arn, reason)
        finish_version(self.backend.registry, arn, CREATE_FAILED, reason)
