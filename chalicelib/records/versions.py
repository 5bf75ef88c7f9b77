"""Solution version records: their summary on the solution, the end of a training run,
and the recommenders whose status follows their hidden version's training."""
from __future__ import annotations

from chalicelib.errors import ResourceNotFoundException
from chalicelib.records import kinds
from chalicelib.records.lifecycle import (ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS,
                                          CREATE_PENDING, RECOMMENDER_START_STOP, TRAINING,
                                          not_deleted)

RUNNING = TRAINING.unfinished   # CREATE PENDING, CREATE IN_PROGRESS, CREATE STOPPING


def version_summary(version: dict) -> dict:
    keys = ("solutionVersionArn", "status", "trainingMode", "trainingType",
            "creationDateTime", "lastUpdatedDateTime", "failureReason")
    return {k: version.get(k) for k in keys}


def finish_version(registry, arn: str, status: str, failure: str | None = None,
                   **fields) -> dict | None:
    """Record the end of a training run (used by the task and the runners), and mirror it
    into the solution's latestSolutionVersion. A stop request wins over a late success."""
    doc = TRAINING.finish(registry, kinds.SOLUTION_VERSION, arn, status,
                          failure or "Training failed.", **fields)
    if doc is None:
        return None
    try:
        registry.update(kinds.SOLUTION, doc["solutionArn"], lambda s: s.__setitem__(
            "latestSolutionVersion", version_summary(doc))
            if s.get("latestSolutionVersion", {}).get("solutionVersionArn") == arn else None)
    except ResourceNotFoundException:
        pass
    return doc


def synced_recommender(registry, doc: dict | None) -> dict | None:
    """The recommender with its status brought up to date: while it is created it follows
    its model's training; Start/Stop move on by time."""
    if doc is None or not not_deleted(doc):
        return doc
    status = doc["status"]
    if status in (CREATE_PENDING, CREATE_IN_PROGRESS):
        version = registry.find(kinds.SOLUTION_VERSION, doc["_solutionVersionArn"])
        state = version["status"] if version else CREATE_FAILED
        if state in RUNNING:
            state = CREATE_IN_PROGRESS
        elif state != ACTIVE:
            state = CREATE_FAILED
        if state != status:
            def follow(current):
                current["status"] = state
                if state == CREATE_FAILED:
                    current["failureReason"] = (version or {}).get(
                        "failureReason", "Training the recommender's model failed.")
                if state == ACTIVE:
                    current["modelMetrics"] = version.get("_metrics", {})
            doc = registry.update(kinds.RECOMMENDER, doc["recommenderArn"], follow)
    elif RECOMMENDER_START_STOP.due(doc, registry.clock(), default=0):
        doc = synced_recommender(registry, registry.update(
            kinds.RECOMMENDER, doc["recommenderArn"],
            lambda current: RECOMMENDER_START_STOP.advance(current, registry.clock(),
                                                           registry.settle_seconds)))
    return doc
