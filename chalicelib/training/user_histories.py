"""Each user's latest items, saved beside a model: serving prepends them to live events."""
from __future__ import annotations

HISTORY_FILE = "histories.json"
HISTORY_LENGTH = 100


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
