"""One solution version's training, inside the training task (chalicelib/training/task.py).

FULL follows AWS's metrics protocol ("Evaluating a solution version with metrics"): the
test users leave the data first (chalicelib/training/evaluation.py: metrics_split), the
version's model is trained once on the training set, and that same model is scored on the
test users it never saw; HPO trials and AutoML candidates are each trained and scored the
same way and the best one's model is kept, not trained again. UPDATE folds new items into
the previous ACTIVE version's model. Progress lines mark each phase
(chalicelib/task_log.py); per-epoch records go to
training_history.json beside the model (chalicelib/models/training_history.py).
"""
from __future__ import annotations

import logging
import time

from chalicelib import task_log
from chalicelib.datasets.csv_import import check_training_minimums
from chalicelib.deployment import user_histories, write_deployment
from chalicelib.errors import JobFailure
from chalicelib.models import get_recipe, load_model
from chalicelib.models.training_history import TrainingProgress
from chalicelib.records import kinds
from chalicelib.records.recipe_catalogue import default_hyperparameters, recipe_type
from chalicelib.records.registry import ACTIVE, CREATE_IN_PROGRESS
from chalicelib.records.versions import finish_version
from chalicelib.training.data_loading import load_training_data
from chalicelib.training.evaluation import metrics_split, train_and_score
from chalicelib.training.hpo import record_automl, tune_version
from chalicelib.training.model_check import check_model
from chalicelib.models.objective import objective_hyperparameters

log = logging.getLogger("chalicelib.training")


def hyperparameters_for(version: dict) -> dict[str, str]:
    values = dict(default_hyperparameters(version["recipeArn"]))
    config = version.get("solutionConfig") or {}
    values.update(config.get("algorithmHyperParameters") or {})
    values.update(config.get("featureTransformationParameters") or {})
    values.update(objective_hyperparameters(config))
    return values


def previous_model(backend, version: dict):
    """The newest ACTIVE version of the same solution: what an UPDATE builds on."""
    versions = backend.registry.list(
        kinds.SOLUTION_VERSION, version["solutionVersionArn"].rsplit(":", 1)[0],
        lambda d: d["solutionArn"] == version["solutionArn"] and d["status"] == ACTIVE)
    if not versions:
        raise JobFailure("trainingMode UPDATE needs an ACTIVE solution version of the same "
                         "solution.")
    latest = max(versions, key=lambda d: d["creationDateTime"])
    return load_model(backend.artifacts.model_dir(latest["solutionVersionArn"]))


def train_version(backend, arn: str) -> None:
    registry = backend.registry
    version = kinds.SOLUTION_VERSION.lifecycle.start(registry, kinds.SOLUTION_VERSION, arn)
    if version["status"] != CREATE_IN_PROGRESS:
        return  # stopped before it started
    started = time.time()
    task_log.phase("loading")
    data, last_seq = load_training_data(backend, version["datasetGroupArn"])
    check_training_minimums(data.interactions)
    recipe = get_recipe(version["recipeArn"])
    params = hyperparameters_for(version)
    metrics = {}
    directory = backend.artifacts.model_dir(arn)
    progress = TrainingProgress(directory, log.info)
    if version["trainingMode"] == "UPDATE":
        task_log.phase("training", mode="UPDATE")
        model = recipe.update(previous_model(backend, version), data, log=progress)
    else:
        recipe, params, evaluation = train_full(version, recipe, data, params, progress)
        record_automl(registry, version, recipe)
        model, metrics = evaluation.model, evaluation.metrics
    task_log.phase("saving")
    # Every user's history, the test users' included: serving reads it at request time.
    histories = user_histories(data)
    check_model(model, histories)   # NaN weights or scores fail here, never get served
    write_deployment(directory, model, histories, data)
    progress.save(finished=time.time(), hyperparameters=params)
    backend.artifacts.flush()  # before ACTIVE: a campaign must find the model
    finish_version(registry, arn, ACTIVE, trainingHours=(time.time() - started) / 3600,
                   tunedHPOParams={"algorithmHyperParameters": params},
                   _metrics=metrics, _eventSeq=last_seq, recipeArn=recipe.arn)
    task_log.phase("done", training_seconds=f"{time.time() - started:.0f}")


def train_full(version: dict, recipe, data, params: dict[str, str], progress):
    """(recipe, hyperparameters, Evaluation): the split first, so that the test users'
    interactions are gone before any recipe sees the data (a recipe's own validation
    split, early stopping, only ever sees training users); then one training, or the HPO
    trials / AutoML candidates, each of which is scored and the best of which is kept."""
    split = metrics_split(recipe_type(version["recipeArn"]), data)
    log.info("metrics split: %d training interactions, %d test users",
             len(split.train.interactions), len(split.cases))
    return tune_version(version, recipe, split, params, train_and_score,
                        lambda arn: hyperparameters_for({**version, "recipeArn": arn}),
                        log=progress)
