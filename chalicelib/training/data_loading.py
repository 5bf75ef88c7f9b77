"""Gather a dataset group's data for training: imported files plus live events and records."""
from __future__ import annotations

import numpy as np

from chalicelib.datasets.reader import group_datasets, merge_rows, read_dataset
from chalicelib.datasets.tables import Table
from chalicelib.models.data import TrainingData


def load_training_data(backend, dataset_group_arn: str) -> tuple[TrainingData, int]:
    """The data, and the sequence number of the last live event it includes."""
    tables = {dataset_type: read_dataset(backend, dataset, dataset_type)
              for dataset_type, dataset
              in group_datasets(backend.registry, dataset_group_arn).items()}
    events = backend.events.events(dataset_group_arn)
    last_seq = events[-1]["SEQ"] if events else 0
    interactions = tables.get("Interactions")
    live = [e for e in events if e.get("USER_ID")]
    if live:
        interactions = merge_rows(interactions, live)
    if interactions is None or len(interactions) == 0:
        interactions = Table({"USER_ID": np.array([], dtype=object),
                              "ITEM_ID": np.array([], dtype=object),
                              "TIMESTAMP": np.array([], dtype=np.float64)})
    return TrainingData(interactions, tables.get("Items"), tables.get("Users")), last_seq
