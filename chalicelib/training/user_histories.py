"""Each user's latest items, saved beside a model: serving prepends them to live events.
A model with context fields also gets each history event's context beside them."""
from __future__ import annotations

import json

HISTORY_FILE = "histories.json"
HISTORY_CONTEXT_FILE = "history_contexts.json"   # only for models with context fields
HISTORY_LENGTH = 100


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
