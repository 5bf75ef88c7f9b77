"""TrainingData and Table at their old import path, kept for the public contract: they
live in chalicelib.models.data (and chalicelib.datasets.tables)."""
from chalicelib.models.data import (CATEGORICAL, ID, NUMERICAL, STRING, TEXTUAL, TIMESTAMP,
                                    Table, TrainingData)

__all__ = ["TrainingData", "Table", "ID", "CATEGORICAL", "NUMERICAL", "TEXTUAL",
           "TIMESTAMP", "STRING"]
