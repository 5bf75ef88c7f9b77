"""The trainable part: item vectors z_i = W [e_i ; f_i], the GRU and the item bias."""
from __future__ import annotations

import torch
from torch import nn


class SequenceNetwork(nn.Module):
    """E, W, the GRU and the item bias. Embeddings are sparse so that a step over a million
    items only updates the rows it touched."""

    def __init__(self, num_items: int, feature_width: int, dim: int):
        super().__init__()
        self.item_embedding = nn.Embedding(num_items, dim, sparse=True)
        self.item_bias = nn.Embedding(num_items, 1, sparse=True)
        self.combine = nn.Linear(dim + feature_width, dim)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        nn.init.normal_(self.item_embedding.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def item_vectors(self, rows: torch.Tensor, features: torch.Tensor,
                     keep_id: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.item_embedding(rows)
        if keep_id is not None:
            ids = ids * keep_id[:, None]
        return self.combine(torch.cat([ids, features[rows]], dim=1))

    def bias(self, rows: torch.Tensor) -> torch.Tensor:
        return self.item_bias(rows).squeeze(-1)

    def sparse_parameters(self):
        return [self.item_embedding.weight, self.item_bias.weight]

    def dense_parameters(self):
        return list(self.combine.parameters()) + list(self.gru.parameters())
