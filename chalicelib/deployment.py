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
HISTORY_CONTEXT_FILE = "history_contexts.json"   # only for models with context fields
HISTORY_LENGTH = 100   # items per user kept from the training data


@dataclass
class Deployment:
    model: Model
    histories: dict[str, list[str]]   # from the training data, oldest first
    history_contexts: dict[str, list[dict]]   # each history event's context, if learned


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


def write_deployment(directory: Path, model: Model, histories: dict[str, list[str]],
                     data) -> None:
    """The model and the user histories of its training data `data` (user_histories),
    into `directory`; for a model with context fields, each event's context as well."""
    save_model(model, directory)
    (directory / HISTORY_FILE).write_text(json.dumps(histories))
    fields = getattr(model, "context_fields", ())
    if fields:
        (directory / HISTORY_CONTEXT_FILE).write_text(
            json.dumps(user_histories(data, fields), default=str))


def replace_deployment(directory: Path, model: Model, histories: dict[str, list[str]],
                       data) -> None:
    """Swap a new deployment in for the one in `directory`: written beside it, then two
    renames, so a reader sees the old or the new model, whole."""
    staging = directory.with_name(directory.name + ".update")
    shutil.rmtree(staging, ignore_errors=True)
    write_deployment(staging, model, histories, data)
    retired = directory.with_name(directory.name + ".previous")
    shutil.rmtree(retired, ignore_errors=True)
    directory.rename(retired)
    staging.rename(directory)
    shutil.rmtree(retired, ignore_errors=True)


def read_deployment(directory: Path) -> Deployment:
    contexts = Path(directory) / HISTORY_CONTEXT_FILE
    return Deployment(load_model(directory),
                      json.loads((Path(directory) / HISTORY_FILE).read_text()),
                      json.loads(contexts.read_text()) if contexts.exists() else {})
