"""One training run: windows in, fitted network out (full or sampled softmax), the number of
epochs chosen on held-out events (validation.py) when there are any."""
from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from torch import nn

from chalicelib import task_log
from chalicelib.models.training_history import report_epoch
from chalicelib.models.base import Log
from chalicelib.models.row_adagrad import sparse_optimizer
from chalicelib.models.user_personalization.context import drop_contexts
from chalicelib.models.user_personalization.network import ItemVectorNetwork
from chalicelib.models.user_personalization.sequences import WindowBuilder
from chalicelib.models.user_personalization.settings import TrainingSettings
from chalicelib.models.user_personalization.validation import HeldOutEvents
from chalicelib.models.sampling import (FULL_SOFTMAX_BELOW, AliasSampler,
                                          default_num_negatives, full_softmax_loss,
                                          sampled_softmax_loss, unigram_proposal)


class Trainer:
    """One training run: windows in, fitted network (GRU or attention) out."""

    def __init__(self, network: ItemVectorNetwork, features: torch.Tensor, counts: np.ndarray,
                 settings: TrainingSettings, seed: int, log: Log):
        self.network, self.features, self.settings, self.log = network, features, settings, log
        self.num_items = len(counts)
        self.generator = torch.Generator().manual_seed(seed)
        mode = settings.softmax
        if mode == "auto":
            mode = "full" if self.num_items < FULL_SOFTMAX_BELOW else "sampled"
        self.full_softmax = mode == "full"
        # with replacement, more draws than items would only repeat them
        self.num_negatives = min(settings.num_negatives or default_num_negatives(self.num_items),
                                 max(self.num_items, 1))
        self.sampler = None if self.full_softmax else AliasSampler(
            unigram_proposal(counts, power=settings.negative_sampling_power))
        # score each distinct drawn item once (sampling.py); False: every draw, as before
        # session 12 (bench/sampling_speed.py --estimators compares the two)
        self.distinct_negatives = True
        # ID dropout only makes sense when there is metadata to fall back on
        self.id_dropout = settings.id_dropout if bool((features[:, 0] > 0).any()) else 0.0
        self.numpy_generator = np.random.default_rng(seed)
        # SparseAdam, or row-wise Adagrad where Adam's state would not fit (10M items)
        self.sparse_optimizer = sparse_optimizer(network.sparse_parameters(),
                                                 settings.learning_rate)
        self.dense_optimizer = torch.optim.Adam(network.dense_parameters(),
                                                lr=settings.learning_rate)

    def _keep(self, size: int) -> torch.Tensor | None:
        if self.id_dropout <= 0:
            return None
        return (torch.rand(size, generator=self.generator) >= self.id_dropout).float()

    def step(self, inputs, targets, weights, hard, input_context=None,
             target_context=None) -> tuple[float, int]:
        network = self.network
        width = int((inputs >= 0).any(0).nonzero().max()) + 1  # trim all-padding columns
        inputs, targets, weights, hard = (inputs[:, :width], targets[:, :width],
                                          weights[:, :width], hard[:, :width])
        share = self.settings.context_dropout
        input_context = drop_contexts(
            None if input_context is None else input_context[:, :width], share, self.generator)
        target_context = drop_contexts(
            None if target_context is None else target_context[:, :width], share,
            self.generator)
        valid_in, valid_out = inputs >= 0, targets >= 0
        flat_targets = targets[valid_out]
        flat_weights = weights[valid_out]
        if self.full_softmax:
            rows = torch.arange(self.num_items)
            z = network.item_vectors(rows, self.features, self._keep(self.num_items))
            x = network.step_inputs(z[inputs.clamp_min(0)] * valid_in[..., None], input_context)
            outputs = network.conditioned(network.sequence(x), target_context)
            loss = full_softmax_loss(outputs[valid_out], flat_targets, z, network.bias(rows),
                                     flat_weights)
        else:
            negatives = self.sampler.unique_negatives(self.num_negatives, self.generator) \
                if self.distinct_negatives else self.sampler.draw(self.num_negatives,
                                                                  self.generator)
            flat_hard = hard[valid_out]
            pieces = [inputs[valid_in], flat_targets, negatives, flat_hard[flat_hard >= 0]]
            unique, inverse = torch.unique(torch.cat(pieces), return_inverse=True)
            z = network.item_vectors(unique, self.features, self._keep(len(unique)))
            bias = network.bias(unique)
            sizes = [len(p) for p in pieces]
            in_pos, out_pos, neg_pos, hard_pos = torch.split(inverse, sizes)
            x = torch.zeros(*inputs.shape, z.shape[1])
            x[valid_in] = z[in_pos]
            outputs = network.conditioned(network.sequence(network.step_inputs(x, input_context)),
                                          target_context)
            hard_index = torch.full(flat_hard.shape, 0, dtype=torch.long)
            hard_index[flat_hard >= 0] = hard_pos
            loss = sampled_softmax_loss(
                outputs[valid_out], flat_targets, z[out_pos], bias[out_pos], negatives,
                z[neg_pos], bias[neg_pos], self.sampler.log_q, flat_weights,
                flat_hard, z[hard_index], bias[hard_index],
                draws=self.num_negatives if self.distinct_negatives else None)
        self.sparse_optimizer.zero_grad()
        self.dense_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(network.dense_parameters(), 5.0)
        self.sparse_optimizer.step()
        self.dense_optimizer.step()
        return float(loss.detach()), int(valid_out.sum())

    def fit(self, builder: WindowBuilder,
            held_out: HeldOutEvents | None = None) -> dict[str, float]:
        """Epoch 1 cuts every user's events from their first one; later epochs shift each
        user's window boundaries at random (settings.shift_windows). With held-out events,
        their score after every epoch (settings.early_stopping_metric: cross-entropy or
        NDCG@10, the other one breaking ties) picks the epoch: training stops after
        `early_stopping_patience` epochs without a better one and keeps the best."""
        settings, network = self.settings, self.network
        patience = settings.early_stopping_patience if held_out is not None else 0
        steps, events_total, started = 0, 0, time.perf_counter()
        # ((the stopping metric, the other one), epoch, network state, validation), higher
        # score is better
        best = ((-math.inf, -math.inf), 0, None, None)
        mode = "full softmax" if self.full_softmax else \
            f"sampled softmax ({self.num_negatives} negatives)"
        windows = builder.windows()
        self.log(f"training on {len(windows)} sequences, {self.num_items} items, {mode}"
                 + (f", up to {settings.epochs} epochs, validation on {len(held_out)} users"
                    if patience else ""))
        epoch = 0
        for epoch in range(1, settings.epochs + 1):
            network.train()
            if epoch > 1 and settings.shift_windows:
                windows = builder.windows(self.numpy_generator)
            order = torch.randperm(len(windows), generator=self.generator)
            task_log.epoch(epoch, settings.epochs, int((windows.targets >= 0).sum()))
            epoch_loss, epoch_events, epoch_start = 0.0, 0, time.perf_counter()
            for batch in order.split(settings.batch_size):
                loss, events = self.step(windows.inputs[batch], windows.targets[batch],
                                         windows.weights[batch], windows.hard_negatives[batch],
                                         *_contexts_of(windows, batch))
                steps += 1
                task_log.advance(events)
                epoch_loss += loss * events
                epoch_events += events
                if steps % settings.log_every_steps == 0:
                    rate = epoch_events / max(time.perf_counter() - epoch_start, 1e-9)
                    self.log(f"step {steps}: loss {loss:.4f}, {rate:.0f} events/s")
                if settings.max_steps and steps >= settings.max_steps:
                    break
            events_total += epoch_events
            epoch_seconds = time.perf_counter() - epoch_start   # validation not included
            stop = bool(settings.max_steps and steps >= settings.max_steps)
            validation = None
            if patience:
                network.eval()
                ndcg, cross_entropy = held_out.score(network, self.features)
                validation = {"ndcg@10": ndcg, "cross-entropy": cross_entropy}
                score = (ndcg, -cross_entropy) if settings.early_stopping_metric == "ndcg@10" \
                    else (-cross_entropy, ndcg)
                if score > best[0]:
                    best = (score, epoch, copy.deepcopy(network.state_dict()), validation)
                stop = stop or epoch - best[1] >= patience
            report_epoch(self.log, epoch, settings.epochs,
                         epoch_loss / max(epoch_events, 1), epoch_events,
                         epoch_seconds, time.perf_counter() - started, validation)
            if stop:
                break
        if best[2] is not None:
            network.load_state_dict(best[2])
            self.log(f"early stopping: kept epoch {best[1]} of {epoch} "
                     f"(validation NDCG@10 {best[3]['ndcg@10']:.4f}, "
                     f"cross-entropy {best[3]['cross-entropy']:.4f})")
        network.eval()
        seconds = max(time.perf_counter() - started, 1e-9)
        return {"steps": steps, "events": events_total, "seconds": seconds,
                "events_per_second": events_total / seconds, "epochs_run": epoch,
                "best_epoch": best[1] if best[2] is not None else epoch,
                "validation_ndcg_at_10": best[3]["ndcg@10"] if best[2] is not None else None}


def _contexts_of(windows, batch) -> tuple:
    """(input, target) context codes of a batch of windows, or (None, None)."""
    if windows.input_context is None:
        return None, None
    return windows.input_context[batch], windows.target_context[batch]
