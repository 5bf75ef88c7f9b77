"""What a recipe trains on: the dataset group's data as numpy columns.

Built from the normalised imports plus live events (PutEvents/PutItems/PutUsers) by the
training task; recipes never read storage themselves, so they can be tested on plain arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Table and the column kinds live with the datasets; imported here too, where recipes and
# outside evaluation harnesses have always found them.
from chalicelib.datasets.schema import (CATEGORICAL, ID, NUMERICAL, STRING, TEXTUAL,
                                        TIMESTAMP)
from chalicelib.datasets.tables import Table

__all__ = ["TrainingData", "Table", "ID", "CATEGORICAL", "NUMERICAL", "TEXTUAL",
           "TIMESTAMP", "STRING"]


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
