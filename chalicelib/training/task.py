"""The training task: `python -m chalicelib.training.task --solution-version-arn ARN`.

Runs as its own process (locally) or container (ECS): reads the dataset group's data from
the store, trains (FULL) or updates (UPDATE) the recipe's model, computes the metrics on a
held-out split, writes the model artifact and marks the version ACTIVE. Any failure marks
it CREATE FAILED with a reason written for the user (the traceback goes to the task log).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback

from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.errors import JobFailure, failure_reason
from chalicelib.resources import kinds
from chalicelib.resources.registry import (ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS,
                                           CREATE_PENDING)
from chalicelib.resources.solutions import finish_version
from chalicelib.training.data_loading import load_training_data
from chalicelib.training.model_check import check_model
from chalicelib.training.objective import objective_hyperparameters
from chalicelib.training.history import TrainingProgress
from chalicelib.training.recipes import get_recipe, load_model, save_model

log = logging.getLogger("chalicelib.training")
HISTORY_FILE = "histories.json"
HISTORY_CONTEXT_FILE = "history_contexts.json"   # only for models with context fields
HISTORY_LENGTH = 100


def hyperparameters_for(version: dict) -> dict[str, str]:
    from chalicelib.resources.catalogue import default_hyperparameters
    values = dict(default_hyperparameters(version["recipeArn"]))
    config = version.get("solutionConfig") or {}
    values.update(config.get("algorithmHyperParameters") or {})
    values.update(config.get("featureTransformationParameters") or {})
    values.update(objective_hyperparameters(config))
    return values


def user_histories(data, columns: tuple[str, ...] = ("ITEM_ID",)) -> dict[str, list]:
    """Each user's latest items, oldest first: serving prepends them to live events.
    With other `columns` (context fields), each event's {column: value} instead."""
    table = data.interactions
    if len(table) == 0:
        return {}
    order = sorted(range(len(table)), key=lambda i: table.columns["TIMESTAMP"][i])
    histories: dict[str, list] = {}
    users = table.columns["USER_ID"]
    if columns == ("ITEM_ID",):
        values = table.columns["ITEM_ID"]
    else:
        present = [c for c in columns if c in table.columns]
        values = [{c: table.columns[c][i] for c in present} for i in range(len(table))]
    for i in order:
        histories.setdefault(users[i], []).append(values[i])
    return {u: h[-HISTORY_LENGTH:] for u, h in histories.items()}


def write_histories(directory, data, model, histories: dict[str, list[str]]) -> None:
    """What serving prepends to live events: the users' items (`histories`) and, for a
    model with context fields, each event's context."""
    (directory / HISTORY_FILE).write_text(json.dumps(histories))
    fields = getattr(model, "context_fields", ())
    if fields:
        (directory / HISTORY_CONTEXT_FILE).write_text(
            json.dumps(user_histories(data, fields), default=str))


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
    version = registry.update(kinds.SOLUTION_VERSION, arn, _start)
    if version["status"] != CREATE_IN_PROGRESS:
        return  # stopped before it started
    started = time.time()
    data, last_seq = load_training_data(backend, version["datasetGroupArn"])
    from chalicelib.datasets.csv_import import check_training_minimums
    check_training_minimums(data.interactions)
    recipe = get_recipe(version["recipeArn"])
    params = hyperparameters_for(version)
    metrics = {}
    directory = backend.artifacts.model_dir(arn)
    progress = TrainingProgress(directory, log.info)
    if version["trainingMode"] == "UPDATE":
        model = recipe.update(previous_model(backend, version), data, log=progress)
    else:
        from chalicelib.training.evaluation import evaluate
        from chalicelib.training.hpo import record_automl, tune_version
        # AutoML / HPO when the solution asks for them; otherwise just the metrics.
        recipe, params, metrics = tune_version(
            version, recipe, data, params, evaluate,
            lambda arn: hyperparameters_for({**version, "recipeArn": arn}))
        record_automl(registry, version, recipe)
        model = recipe.train(data, params, seed=0, log=progress)
    histories = user_histories(data)
    check_model(model, histories)   # NaN weights or scores fail here, never get served
    save_model(model, directory)
    progress.save(finished=time.time(), hyperparameters=params)
    write_histories(directory, data, model, histories)
    backend.artifacts.flush()  # before ACTIVE: a campaign must find the model
    finish_version(registry, arn, ACTIVE, trainingHours=(time.time() - started) / 3600,
                   tunedHPOParams={"algorithmHyperParameters": params},
                   _metrics=metrics, _eventSeq=last_seq, recipeArn=recipe.arn)


def _start(doc):
    if doc["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS):
        doc["status"] = CREATE_IN_PROGRESS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solution-version-arn", required=True)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    overrides = {"data_dir": __import__("pathlib").Path(args.data_dir)} if args.data_dir else {}
    backend = build_backend(Settings.from_env(**overrides), with_tasks=False)
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
