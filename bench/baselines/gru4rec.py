"""GRU4Rec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018) with the official implementation's
best cross-entropy settings (hidasib/GRU4Rec, paramfiles/yoochoose_xe_shared_best.py):
constrained (shared input/output) embedding, one GRU layer of 480 units, session-parallel
mini-batches of 48, hidden dropout 0.2, Adagrad at lr 0.07 without momentum, the softmax over
the batch's targets plus 2,048 shared negatives drawn in proportion to popularity^0.2 with
the log-Q correction, 10 epochs. Each user's sequence is one session. The official code
fixes its epochs; here the shared early-stopping loop also watches the validation split
(patience 3) so that it is never stopped before its best epoch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from bench.baselines import TrainingSettings, fit_with_early_stopping, validation_ndcg


@dataclass
class GRU4RecConfig:
    """The official parameter names: layers=[hidden], dropout_p_hidden, n_sample,
    sample_alpha; learning_rate, batch_size and n_epochs in `training`."""
    hidden: int = 480
    dropout_hidden: float = 0.2
    n_sample: int = 2048
    sample_alpha: float = 0.2
    training: TrainingSettings = field(default_factory=lambda: TrainingSettings(
        learning_rate=0.07, batch_size=48, max_epochs=10, patience=3))


class GRU4Rec(nn.Module):
    name = "GRU4Rec"

    def __init__(self, num_items: int, config: GRU4RecConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(num_items + 1, config.hidden)   # also the output layer
        self.output_bias = nn.Parameter(torch.zeros(num_items + 1))
        self.cell = nn.GRUCell(config.hidden, config.hidden)
        self.dropout = nn.Dropout(config.dropout_hidden)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)

    def step(self, items: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        return self.cell(self.embedding(items), hidden)

    def score_batch(self, histories: list[list[int]]) -> torch.Tensor:
        length = max(len(h) for h in histories)
        hidden = torch.zeros(len(histories), self.config.hidden)
        padded = torch.zeros(len(histories), length, dtype=torch.long)
        lengths = torch.tensor([len(h) for h in histories])
        for row, history in enumerate(histories):
            padded[row, :len(history)] = torch.tensor(history)
        for t in range(length):   # right-padded: a finished history keeps its state
            updated = self.step(padded[:, t], hidden)
            hidden = torch.where((t < lengths)[:, None], updated, hidden)
        return hidden @ self.embedding.weight.T + self.output_bias


def train_gru4rec(sequences: list[list[int]], num_items: int, validation: tuple[list, list],
                  config: GRU4RecConfig, seed: int, max_seconds: float, log=print):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GRU4Rec(num_items, config)
    sessions = [np.asarray(s, dtype=np.int64) for s in sequences if len(s) >= 2]
    counts = np.bincount(np.concatenate(sessions), minlength=num_items + 1).astype(np.float64)
    counts[0] = 0.0
    proposal = counts ** config.sample_alpha
    proposal /= proposal.sum()
    log_q = torch.from_numpy(np.log(np.maximum(proposal, 1e-12))).float()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=config.training.learning_rate)

    def epoch(_):
        """Session-parallel mini-batches: each of the batch's lanes runs through a session
        event by event; a finished session is replaced by the next, its state reset."""
        order = rng.permutation(len(sessions))
        lanes = min(config.training.batch_size, len(order))
        current = list(order[:lanes])
        position = [0] * lanes
        upcoming = lanes
        hidden = torch.zeros(lanes, config.hidden)
        total, count = 0.0, 0
        while True:
            active = [k for k in range(lanes) if current[k] is not None]
            if not active:
                break
            items = torch.tensor([sessions[current[k]][position[k]] for k in active])
            targets = torch.tensor([sessions[current[k]][position[k] + 1] for k in active])
            state = model.step(items, hidden[active])
            out = model.dropout(state)
            negatives = torch.from_numpy(rng.choice(len(proposal), config.n_sample, p=proposal))
            candidates = torch.cat([targets, negatives])
            logits = out @ model.embedding(candidates).T + model.output_bias[candidates]
            logits = logits - log_q[candidates]            # logq = 1.0
            # another lane's target equal to this lane's is not a negative for it
            same = targets[:, None] == candidates[None]
            same[torch.arange(len(active)), torch.arange(len(active))] = False
            logits = logits.masked_fill(same, float("-inf"))
            loss = nn.functional.cross_entropy(logits, torch.arange(len(active)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(active)
            count += len(active)
            hidden = hidden.detach().clone()
            hidden[active] = state.detach()
            for k in active:
                position[k] += 1
                if position[k] + 1 >= len(sessions[current[k]]):
                    current[k] = order[upcoming] if upcoming < len(order) else None
                    upcoming += 1
                    position[k] = 0
                    hidden[k] = 0.0
        return total / max(count, 1)

    report = fit_with_early_stopping(
        model, epoch, lambda: validation_ndcg(model.score_batch, *validation),
        config.training.max_epochs, config.training.patience, max_seconds, log, model.name)
    return model, report
