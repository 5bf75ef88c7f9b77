"""What a recipe trains on: the dataset group's data as numpy columns.

Built from the normalised imports plus live events (PutEvents/PutItems/PutUsers) by the
training task; recipes never read storage themselves, so they can be tested on plain arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Column kinds, as the schema declares them (see chalicelib/datasets/tables.py).
ID, CATEGORICAL, NUMERICAL, TEXTUAL, TIMESTAMP, STRING = (
    "id", "categorical", "numerical", "textual", "timestamp", "string")


@dataclass
class Table:
    """Columns keyed by upper-cased schema field name, all of one length."""
    columns: dict[str, np.ndarray]
    kinds: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str) -> np.ndarray | None:
        return self.columns.get(name)


@dataclass
class TrainingData:
    """interactions: USER_ID, ITEM_ID (object arrays), TIMESTAMP (float64 seconds), and where
    present EVENT_TYPE (object), EVENT_VALUE (float32, NaN when absent), IMPRESSION (object,
    '|'-separated item ids or ''), plus any other schema columns."""
    interactions: Table
    items: Table | None = None
    users: Table | None = None

    @classmethod
    def from_interactions(cls, user_ids, item_ids, timestamps, **extra) -> "TrainingData":
        """Convenience for tests and benchmarks."""
        columns = {
            "USER_ID": np.asarray(user_ids, dtype=object),
            "ITEM_ID": np.asarray(item_ids, dtype=object),
            "TIMESTAMP": np.asarray(timestamps, dtype=np.float64),
        }
        columns.update({k.upper(): np.asarray(v) for k, v in extra.items()})
        kinds = {"USER_ID": ID, "ITEM_ID": ID, "TIMESTAMP": TIMESTAMP}
        return cls(interactions=Table(columns, kinds))
