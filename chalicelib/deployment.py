"""A deployment: what serving needs of one trained solution version, in its model folder.

The model's own files (written by the recipe, with model.json naming the recipe) and each
user's latest items from the training data (histories.json), which serving prepends to the
events received since. The training task and automatic updates write deployments; the
model cache and the benchmarks read and write them through here, so no reader needs the
code that trains.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from chalicelib.models import load_model, save_model
from chalicelib.models.base import Model

HISTORY_FILE = "histories.json"
HISTORY_LENGTH = 100   # items per user kept from the training data


@dataclass
class Deployment:
    model: Model
    histories: dict[str, list[str]]   # from the training data, oldest first


def user_histories(data) -> dict[str, list[str]]:
    """Each user's latest items, oldest first: serving prepends them to live events."""
    table = data.interactions
    if len(table) == 0:
        return {}
    order = sorted(range(len(table)), key=lambda i: table.columns["TIMESTAMP"][i])
    histories: dict[str, list[str]] = {}
    users, items = table.columns["USER_ID"], table.columns["ITEM_ID"]
    for i in order:
        histories.setdefault(users[i], []).append(items[i])
    return {u: h[-HISTORY_LENGTH:] for u, h in histories.items()}


def write_deployment(directory: Path, model: Model, histories: dict[str, list[str]]) -> None:
    """The model and the user histories of its training data (user_histories), into
    `directory`."""
    save_model(model, directory)
    (directory / HISTORY_FILE).write_text(json.dumps(histories))


def replace_deployment(directory: Path, model: Model,
                       histories: dict[str, list[str]]) -> None:
    """Swap a new deployment in for the one in `directory`: written beside it, then two
    renames, so a reader sees the old or the new model, whole."""
    staging = directory.with_name(directory.name + ".update")
    shutil.rmtree(staging, ignore_errors=True)
    write_deployment(staging, model, histories)
    retired = directory.with_name(directory.name + ".previous")
    shutil.rmtree(retired, ignore_errors=True)
    directory.rename(retired)
    staging.rename(directory)
    shutil.rmtree(retired, ignore_errors=True)


def read_deployment(directory: Path) -> Deployment:
    return Deployment(load_model(directory),
                      json.loads((Path(directory) / HISTORY_FILE).read_text()))
