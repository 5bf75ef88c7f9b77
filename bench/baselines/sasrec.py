"""SASRec (Kang & McAuley, ICDM 2018) with a softmax (CE) loss over all items.

As the paper: item embeddings scaled by sqrt(d) plus learned positions, `blocks` self-
attention blocks (pre-LN: LayerNorm before attention and feed-forward, residuals around
both), causal attention, the padded positions zeroed, a final LayerNorm, and the item
embedding shared as the output layer. Each user's training sequence is one example: its
latest maxlen+1 items, every position predicting the next item. Adam (betas 0.9/0.98),
lr 0.001, batch 128, hidden 50, 2 blocks, 1 head; dropout 0.5 on sparse data (Amazon), 0.2
on dense (MovieLens); maxlen 50 (Amazon) / 200 (MovieLens). The loss is the softmax over
every item (CE), which later work (e.g. Klenitskiy & Vasilev 2023) found much stronger than
the paper's one-negative BCE.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from bench.baselines import (TrainingSettings, fit_with_early_stopping, left_padded,
                             validation_ndcg)


@dataclass
class SASRecConfig:
    training: TrainingSettings = field(default_factory=lambda: TrainingSettings(
        learning_rate=0.001, batch_size=128, max_epochs=300, patience=10))
    maxlen: int = 50
    hidden: int = 50
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.5


class SASRecBlock(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim, eps=1e-8)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.feed_forward_norm = nn.LayerNorm(dim, eps=1e-8)
        # the paper's point-wise feed-forward: two d x d layers (1x1 convolutions), ReLU
        self.feed_forward = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(dropout), nn.ReLU(),
                                          nn.Linear(dim, dim), nn.Dropout(dropout))

    def forward(self, x, causal, keep):
        h = self.attention_norm(x)
        attended, _ = self.attention(h, h, h, attn_mask=causal, need_weights=False)
        x = (x + attended) * keep
        return (x + self.feed_forward(self.feed_forward_norm(x))) * keep


class SASRec(nn.Module):
    name = "SASRec"

    def __init__(self, num_items: int, config: SASRecConfig):
        super().__init__()
        self.config = config
        self.item_embedding = nn.Embedding(num_items + 1, config.hidden, padding_idx=0)
        self.position = nn.Embedding(config.maxlen, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(SASRecBlock(config.hidden, config.heads, config.dropout)
                                    for _ in range(config.blocks))
        self.final_norm = nn.LayerNorm(config.hidden, eps=1e-8)
        for name, parameter in self.named_parameters():   # the port's xavier init
            if parameter.dim() > 1:
                nn.init.xavier_normal_(parameter)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def states(self, sequences: torch.Tensor) -> torch.Tensor:
        """[B, L] left-padded item ids -> [B, L, d]."""
        length = sequences.shape[1]
        x = self.item_embedding(sequences) * self.config.hidden ** 0.5
        x = x + self.position(torch.arange(self.config.maxlen - length, self.config.maxlen))
        keep = (sequences > 0).unsqueeze(-1).float()
        x = self.dropout(x) * keep
        causal = torch.ones(length, length, dtype=torch.bool).triu(1)
        for block in self.blocks:
            x = block(x, causal, keep)
        return self.final_norm(x)

    def score_batch(self, histories: list[list[int]]) -> torch.Tensor:
        states = self.states(left_padded(histories, self.config.maxlen))[:, -1]
        return states @ self.item_embedding.weight.T


def training_examples(sequences: list[list[int]], maxlen: int):
    """(inputs, targets) [U, maxlen], left-padded: each sequence's latest maxlen+1 items."""
    inputs = left_padded([s[:-1] for s in sequences], maxlen)
    targets = left_padded([s[1:] for s in sequences], maxlen)
    return inputs, targets


def train_sasrec(sequences: list[list[int]], num_items: int, validation: tuple[list, list],
                 config: SASRecConfig, seed: int, max_seconds: float, log=print):
    """sequences: each user's training items (time order). validation: (histories, targets)
    for early stopping. Returns (model, FitReport)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = SASRec(num_items, config)
    usable = [s for s in sequences if len(s) >= 2]
    inputs, targets = training_examples(usable, config.maxlen)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate, betas=(0.9, 0.98))

    def epoch(_):
        total, count = 0.0, 0
        for batch in torch.randperm(len(inputs), generator=generator).split(config.training.batch_size):
            x, y = inputs[batch], targets[batch]
            width = int((x > 0).sum(1).max())          # trim all-padding columns
            x, y = x[:, -width:], y[:, -width:]
            states = model.states(x)
            real = y > 0
            logits = states[real] @ model.item_embedding.weight.T
            logits[:, 0] = float("-inf")
            loss = nn.functional.cross_entropy(logits, y[real])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * int(real.sum())
            count += int(real.sum())
        return total / max(count, 1)

    report = fit_with_early_stopping(
        model, epoch, lambda: validation_ndcg(model.score_batch, *validation),
        config.training.max_epochs, config.training.patience, max_seconds, log, model.name)
    return model, report
