"""Automatic updates, as AWS documents them for User-Personalization campaigns.

Every two hours, each ACTIVE campaign whose solution version was trained with
trainingMode FULL (and whose dataset group still has its datasets) gets its model
refreshed in place: new items and their latest metadata folded in, exploration
statistics adjusted from recent impressions and events — no full retraining. Versions
created with UPDATE are not auto-updated.
"""
from __future__ import annotations

import logging
import time

from chalicelib.datasets.reader import group_datasets
from chalicelib.deployment import replace_deployment, user_histories
from chalicelib.models import UPDATABLE, get_recipe, load_model, recipe_name
from chalicelib.records import kinds
from chalicelib.records.registry import ACTIVE
from chalicelib.training.data_loading import load_training_data
from chalicelib.training.model_check import check_model

log = logging.getLogger(__name__)


def eligible_versions(backend, arn_prefix: str = "") -> list[dict]:
    """Solution versions behind ACTIVE campaigns that automatic updates apply to;
    `arn_prefix` ('arn:aws:personalize:<region>:<account>:') limits them to one account."""
    seen, versions = set(), []
    for campaign in backend.registry.list_all(
            kinds.CAMPAIGN, lambda doc: doc["campaignArn"].startswith(arn_prefix)):
        if campaign["status"] != ACTIVE or campaign["solutionVersionArn"] in seen:
            continue
        seen.add(campaign["solutionVersionArn"])
        version = backend.registry.find(kinds.SOLUTION_VERSION, campaign["solutionVersionArn"])
        if (version and version["status"] == ACTIVE and version["trainingMode"] == "FULL"
                and recipe_name(version["recipeArn"]) in UPDATABLE
                and "Interactions" in group_datasets(backend.registry,
                                                     version["datasetGroupArn"])):
            versions.append(version)
    return versions


def update_version(backend, version: dict) -> None:
    arn = version["solutionVersionArn"]
    directory = backend.artifacts.model_dir(arn)
    data, last_seq = load_training_data(backend, version["datasetGroupArn"])
    model = get_recipe(version["recipeArn"]).update(load_model(directory), data, log=log.info)
    histories = user_histories(data)
    check_model(model, histories)   # an unusable update leaves the served model in place
    replace_deployment(directory, model, histories, data)
    now = time.time()

    def note(doc):  # the serving cache reloads when the revision changes
        doc.update(_eventSeq=last_seq, _modelRevision=doc.get("_modelRevision", 0) + 1,
                   _lastAutoUpdate=now)
    backend.registry.update(kinds.SOLUTION_VERSION, arn, note, stamp=False)
    for campaign in backend.registry.list_all(
            kinds.CAMPAIGN,
            lambda doc: doc["solutionVersionArn"] == arn and doc["status"] == ACTIVE):
        backend.registry.update(kinds.CAMPAIGN, campaign["campaignArn"],
                                lambda doc: doc.update(lastUpdatedDateTime=now), stamp=False)


def run_automatic_updates(backend, arn_prefix: str = "") -> list[str]:
    """One round (of one account's versions, with `arn_prefix`); returns the solution
    version ARNs updated. A failure of one version is logged and does not stop the others."""
    updated = []
    for version in eligible_versions(backend, arn_prefix):
        try:
            update_version(backend, version)
            updated.append(version["solutionVersionArn"])
        except Exception:
            log.exception("automatic update of %s failed", version["solutionVersionArn"])
    log.info("automatic updates: %d version(s) refreshed", len(updated))
    return updated
