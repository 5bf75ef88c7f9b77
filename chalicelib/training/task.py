"""The training task: `python -m chalicelib.training.task --solution-version-arn ARN`.

Runs as its own process (locally) or container (ECS): reads the dataset group's data from
the store, trains (FULL) or updates (UPDATE) the recipe's model, computes the metrics on a
held-out split, writes the model artifact and marks the version ACTIVE. Any failure marks
it CREATE FAILED with a reason written for the user (the traceback goes to the task log).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback

from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.datasets.csv_import import check_training_minimums
from chalicelib.deployment import user_histories, write_deployment
from chalicelib.errors import JobFailure, failure_reason
from chalicelib.models import get_recipe, load_model
from chalicelib.records import kinds
from chalicelib.records.recipe_catalogue import default_hyperparameters
from chalicelib.records.registry import ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS
from chalicelib.records.versions import finish_version
from chalicelib.training.data_loading import load_training_data
from chalicelib.training.evaluation import evaluate
from chalicelib.training.hpo import record_automl, tune_version
from chalicelib.training.model_check import check_model
from chalicelib.models.training_history import TrainingProgress

log = logging.getLogger("chalicelib.training")


def hyperparameters_for(version: dict) -> dict[str, str]:
    values = dict(default_hyperparameters(version["recipeArn"]))
    config = version.get("solutionConfig") or {}
    values.update(config.get("algorithmHyperParameters") or {})
    values.update(config.get("featureTransformationParameters") or {})
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
    data, last_seq = load_training_data(backend, version["datasetGroupArn"])
    check_training_minimums(data.interactions)
    recipe = get_recipe(version["recipeArn"])
    params = hyperparameters_for(version)
    metrics = {}
    directory = backend.artifacts.model_dir(arn)
    progress = TrainingProgress(directory, log.info)
    if version["trainingMode"] == "UPDATE":
        model = recipe.update(previous_model(backend, version), data, log=progress)
    else:
        # AutoML / HPO when the solution asks for them; otherwise just the metrics.
        recipe, params, metrics = tune_version(
            version, recipe, data, params, evaluate,
            lambda arn: hyperparameters_for({**version, "recipeArn": arn}))
        record_automl(registry, version, recipe)
        model = recipe.train(data, params, seed=0, log=progress)
    histories = user_histories(data)
    check_model(model, histories)   # NaN weights or scores fail here, never get served
    write_deployment(directory, model, histories)
    progress.save(finished=time.time(), hyperparameters=params)
    backend.artifacts.flush()  # before ACTIVE: a campaign must find the model
    finish_version(registry, arn, ACTIVE, trainingHours=(time.time() - started) / 3600,
                   tunedHPOParams={"algorithmHyperParameters": params},
                   _metrics=metrics, _eventSeq=last_seq, recipeArn=recipe.arn)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solution-version-arn", required=True)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    overrides = {"data_dir": __import__("pathlib").Path(args.data_dir)} if args.data_dir else {}
    backend = build_backend(Settings.from_env(**overrides))
    try:
        train_version(backend, args.solution_version_arn)
    except Exception as error:
        traceback.print_exc()   # the task log has the details; the reason is for users
        finish_version(backend.registry, args.solution_version_arn, CREATE_FAILED,
                       failure_reason(error, "Training", "the training task's log"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
