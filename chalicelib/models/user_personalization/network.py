"""The trainable part: item vectors z_i = W [e_i ; f_i], the item bias, and a sequence model
over each user's z sequence: a GRU (aws-user-personalization) or causal self-attention
(aws-user-personalization-v2). Both share the item representation, so the losses, UPDATE,
cold items and serving treat them alike; only `sequence` differs. When the interactions
carry context fields (context.py), both also get the context embeddings: each event's
context added to its step input (`step_inputs`), the next step's context added to the state
that scores the items (`conditioned`)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from chalicelib.models.user_personalization.context import ContextEmbedding

GRU = "gru"
TRANSFORMER = "transformer"


class ItemVectorNetwork(nn.Module):
    """E, W and the item bias. Embeddings are sparse so that a step over a million items
    only updates the rows it touched; everything else is dense."""

    def __init__(self, num_items: int, feature_width: int, dim: int,
                 context_sizes: list[int] | None = None):
        super().__init__()
        self.item_embedding = nn.Embedding(num_items, dim, sparse=True)
        self.item_bias = nn.Embedding(num_items, 1, sparse=True)
        self.combine = nn.Linear(dim + feature_width, dim)
        self.context_in = ContextEmbedding(context_sizes, dim) if context_sizes else None
        self.context_out = ContextEmbedding(context_sizes, dim) if context_sizes else None
        nn.init.normal_(self.item_embedding.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def item_vectors(self, rows: torch.Tensor, features: torch.Tensor,
                     keep_id: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.item_embedding(rows)
        if keep_id is not None:
            ids = ids * keep_id[:, None]
        return self.combine(torch.cat([ids, features[rows]], dim=1))

    @torch.no_grad()
    def all_item_vectors(self, features: torch.Tensor, chunk: int = 1 << 18) -> torch.Tensor:
        """z of every item, a block of rows at a time: in one piece the gathered E and F and
        their concatenation are temporaries of 3x the output (28 GB at 10M items)."""
        n = len(features)
        out = torch.empty(n, self.combine.out_features)
        for start in range(0, n, chunk):
            rows = torch.arange(start, min(n, start + chunk))
            out[start:start + len(rows)] = self.item_vectors(rows, features)
        return out

    def step_inputs(self, z: torch.Tensor, contexts: torch.Tensor | None) -> torch.Tensor:
        """The sequence model's input per step: the event's item vector plus its context
        (codes [..., fields]; None or code 0: no context)."""
        if self.context_in is None or contexts is None:
            return z
        return z + self.context_in(contexts)

    def conditioned(self, states: torch.Tensor, contexts: torch.Tensor | None) -> torch.Tensor:
        """The state that scores the next item, given that step's context."""
        if self.context_out is None or contexts is None:
            return states
        return states + self.context_out(contexts)

    def bias(self, rows: torch.Tensor) -> torch.Tensor:
        return self.item_bias(rows).squeeze(-1)

    def sparse_parameters(self):
        return [self.item_embedding.weight, self.item_bias.weight]

    def dense_parameters(self):
        sparse = {id(p) for p in self.sparse_parameters()}
        return [p for p in self.parameters() if id(p) not in sparse]

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, D] item vectors (right-padded) -> [B, T, D] states; the state at t sees
        positions <= t only."""
        raise NotImplementedError


class SequenceNetwork(ItemVectorNetwork):
    """aws-user-personalization: a GRU, with dropout on its inputs and outputs while
    training (without it a few epochs overfit small catalogues)."""
    kind = GRU

    def __init__(self, num_items: int, feature_width: int, dim: int, dropout: float = 0.0,
                 context_sizes: list[int] | None = None):
        super().__init__(num_items, feature_width, dim, context_sizes)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.dropout = nn.Dropout(dropout)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.gru(self.dropout(x))
        return self.dropout(outputs)

    def last_state(self, x: np.ndarray) -> np.ndarray:
        """sequence(x[None])[0, -1] in eval mode, for one [T, D] float32 sequence, in numpy:
        a request's short history costs torch's GRU 0.96 ms at 149 dimensions and 26
        steps (call overhead per step), this 0.57 ms."""
        w_ih, w_hh = self.gru.weight_ih_l0.detach().numpy(), self.gru.weight_hh_l0.detach().numpy()
        b_ih, b_hh = self.gru.bias_ih_l0.detach().numpy(), self.gru.bias_hh_l0.detach().numpy()
        d = w_hh.shape[1]
        inputs = x @ w_ih.T + b_ih   # every step's input gates in one product
        h = np.zeros(d, dtype=np.float32)
        for gates in inputs:   # PyTorch's GRU: reset, update, new
            hidden = w_hh @ h + b_hh
            reset = _sigmoid(gates[:d] + hidden[:d])
            update = _sigmoid(gates[d:2 * d] + hidden[d:2 * d])
            new = np.tanh(gates[2 * d:] + reset * hidden[2 * d:])
            h = new + update * (h - new)
        return h


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)   # no overflow warning for large |x|


class CausalBlock(nn.Module):
    """A pre-LN transformer block: x + Attention(LN(x)), then x + FFN(LN(x)). Pre-LN trains
    stably without a learning-rate warm-up, which a recipe without a user cannot tune."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.feed_forward_norm = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout),
                                          nn.Linear(dim, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        h = self.attention_norm(x)
        attended, _ = self.attention(h, h, h, attn_mask=causal, need_weights=False)
        x = x + self.dropout(attended)
        return x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))


class AttentionNetwork(ItemVectorNetwork):
    """aws-user-personalization-v2: learned positions + `blocks` causal self-attention
    blocks over the user's latest `max_length` z vectors. Sequences are right-padded, so
    the causal mask alone keeps every real position from attending to padding (padding
    only ever comes after it)."""
    kind = TRANSFORMER

    def __init__(self, num_items: int, feature_width: int, dim: int, max_length: int,
                 blocks: int = 2, heads: int = 1, dropout: float = 0.0,
                 context_sizes: list[int] | None = None):
        super().__init__(num_items, feature_width, dim, context_sizes)
        self.position = nn.Embedding(max_length, dim)
        nn.init.normal_(self.position.weight, std=0.02)
        self.input_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(CausalBlock(dim, heads, dropout) for _ in range(blocks))
        self.final_norm = nn.LayerNorm(dim)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        positions = torch.arange(length)
        causal = torch.ones(length, length, dtype=torch.bool).triu(1)  # True = may not see
        h = self.input_dropout(x + self.position(positions)[None])
        for block in self.blocks:
            h = block(h, causal)
        return self.final_norm(h)


def attention_heads(dim: int, heads: int) -> int:
    """The largest head count <= heads that divides dim (attention splits dim evenly)."""
    heads = max(1, min(heads, dim))
    while dim % heads:
        heads -= 1
    return heads


def build_network(settings, num_items: int, feature_width: int,
                  context_sizes: list[int] | None = None) -> ItemVectorNetwork:
    """The network a TrainingSettings describes (settings.sequence_model: gru | transformer)."""
    if settings.sequence_model == TRANSFORMER:
        return AttentionNetwork(num_items, feature_width, settings.hidden_dimension,
                                settings.bptt, settings.num_blocks,
                                attention_heads(settings.hidden_dimension, settings.num_heads),
                                settings.dropout, context_sizes)
    return SequenceNetwork(num_items, feature_width, settings.hidden_dimension,
                           settings.dropout, context_sizes)
