"""aws-user-personalization (and -v2): a GRU over each user's item sequence.

Items are represented by z_i = W [e_i ; f_i]: a learned ID embedding e_i and the item's
metadata features f_i (item_features.py: categorical, numerical, text). A GRU reads the
user's latest `bptt` items (as z vectors) and its last state h_u scores every item:
s_i = z_i . h_u + b_i. Training predicts each next item with an importance-sampled softmax
(sampling.py) above FULL_SOFTMAX_BELOW items, the exact softmax below it. During training
the ID embedding is dropped for a random share of items so that the model also learns to
score items from metadata alone: that is what lets cold items (no interactions) rank.

Serving (`recommend`) blends the GRU's softmax with recent popularity for users with short
histories, excludes the user's own history, applies the filter mask and spends a share of
the slots on exploration (exploration.py). `update` folds in new items and refreshes the
statistics without touching the GRU.
"""
from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from chalicelib.training.data import TrainingData
from chalicelib.training.exploration import (ItemStatistics, blend, compute_item_statistics,
                                             exploration_bonus, exploration_distribution)
from chalicelib.training.item_features import (FeatureSpec, fit_feature_spec,
                                               item_feature_matrix, nearest_neighbours)
from chalicelib.training.recipes.base import Log, Model, Recipe, Scored, _quiet
from chalicelib.training.sampling import (FULL_SOFTMAX_BELOW, AliasSampler,
                                          default_num_negatives, full_softmax_loss,
                                          sampled_softmax_loss, unigram_proposal)

NAME = "aws-user-personalization"
STATE_FILE = "user_personalization.pt"
META_FILE = "user_personalization.json"
# A user with n known events gets popularity weight COLD_USER_PRIOR / (COLD_USER_PRIOR + n):
# nothing known -> popularity, a few events in -> mostly the sequence model.
COLD_USER_PRIOR = 1.0
NEIGHBOURS = 10  # metadata neighbours averaged to initialise a new item's ID embedding

DEFAULT_HYPERPARAMETERS = {
    # the recipe's own (names and defaults as AWS documents them)
    "hidden_dimension": "149",
    "bptt": "32",
    "recency_mask": "true",
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "0.99",
    # training knobs of this implementation
    "epochs": "10",
    "learning_rate": "0.005",
    "batch_size": "64",
    "num_negatives": "auto",          # auto = about sqrt(V)
    "softmax": "auto",                # auto | full | sampled
    "id_dropout": "0.2",              # share of items scored from metadata only per step
    "max_impression_negatives": "8",
    "popularity_half_life_days": "7",
    "max_steps": "0",                 # 0 = no limit (benchmarks cap it)
    "log_every_steps": "100",
}


@dataclass
class Settings:
    hidden_dimension: int
    bptt: int
    recency_mask: bool
    min_percentile: float
    max_percentile: float
    epochs: int
    learning_rate: float
    batch_size: int
    num_negatives: int | None
    softmax: str
    id_dropout: float
    max_impression_negatives: int
    popularity_half_life_days: float
    max_steps: int
    log_every_steps: int

    @classmethod
    def parse(cls, hyperparameters: dict[str, str]) -> "Settings":
        values = {**DEFAULT_HYPERPARAMETERS,
                  **{k: str(v) for k, v in (hyperparameters or {}).items()}}
        negatives = values["num_negatives"].strip().lower()
        return cls(
            hidden_dimension=max(2, int(float(values["hidden_dimension"]))),
            bptt=max(1, int(float(values["bptt"]))),
            # v2 names the same switch apply_recency_bias
            recency_mask=values.get("apply_recency_bias", values["recency_mask"])
            .strip().lower() in ("true", "1", "yes"),
            min_percentile=float(values["min_user_history_length_percentile"]),
            max_percentile=float(values["max_user_history_length_percentile"]),
            epochs=max(1, int(float(values["epochs"]))),
            learning_rate=float(values["learning_rate"]),
            batch_size=max(1, int(float(values["batch_size"]))),
            num_negatives=None if negatives in ("auto", "", "0") else int(float(negatives)),
            softmax=values["softmax"].strip().lower(),
            id_dropout=min(max(float(values["id_dropout"]), 0.0), 0.95),
            max_impression_negatives=max(0, int(float(values["max_impression_negatives"]))),
            popularity_half_life_days=float(values["popularity_half_life_days"]),
            max_steps=max(0, int(float(values["max_steps"]))),
            log_every_steps=max(1, int(float(values["log_every_steps"]))),
        )

    def to_json(self) -> dict:
        return dict(self.__dict__)


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


# --- data preparation -------------------------------------------------------------------

def catalogue_ids(data: TrainingData) -> list[str]:
    """Every item the model knows: interacted items and catalogue items, sorted."""
    ids = set(map(str, data.interactions.columns.get("ITEM_ID", [])))
    if data.items is not None and "ITEM_ID" in data.items.columns:
        ids.update(map(str, data.items.columns["ITEM_ID"]))
    return sorted(ids)


def kept_users(user_codes: np.ndarray, settings: Settings) -> np.ndarray:
    """Boolean per event: its user's history length lies within the percentile bounds."""
    _, inverse, counts = np.unique(user_codes, return_inverse=True, return_counts=True)
    low = np.quantile(counts, min(max(settings.min_percentile, 0.0), 1.0))
    high = np.quantile(counts, min(max(settings.max_percentile, 0.0), 1.0))
    keep_user = (counts >= low) & (counts <= high)
    if not keep_user.any():  # tiny data: never filter everything away
        keep_user[:] = True
    return keep_user[inverse]


def impression_negatives(interactions, index: dict[str, int], limit: int) -> np.ndarray:
    """[events, limit] item rows shown with each event but never interacted by that user
    (-1 = none): explicit negatives for the event's prediction."""
    size = len(interactions)
    out = np.full((size, max(limit, 0)), -1, dtype=np.int64)
    shown_column = interactions.columns.get("IMPRESSION")
    if shown_column is None or limit <= 0:
        return out
    users = np.asarray(interactions.columns["USER_ID"], dtype=object).astype(str)
    items = np.asarray(interactions.columns["ITEM_ID"], dtype=object).astype(str)
    clicked = set(zip(users.tolist(), items.tolist()))
    for event, shown in enumerate(shown_column):
        if not shown or not isinstance(shown, str):
            continue
        user, item, filled = users[event], items[event], 0
        for other in shown.split("|"):
            row = index.get(other, -1)
            if row >= 0 and other != item and (user, other) not in clicked:
                out[event, filled] = row
                filled += 1
                if filled == limit:
                    break
    return out


@dataclass
class Windows:
    """Truncated sequences: inputs[w, t] predicts targets[w, t] (-1 = padding)."""
    inputs: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    hard_negatives: torch.Tensor  # [W, T, K]

    def __len__(self) -> int:
        return self.inputs.shape[0]


def build_windows(user_codes: np.ndarray, rows: np.ndarray, stamps: np.ndarray,
                  hard: np.ndarray, settings: Settings) -> Windows:
    """Cut each user's time-ordered events into windows of `bptt` steps (vectorised)."""
    order = np.lexsort((stamps, user_codes))
    users, items, times, hard = user_codes[order], rows[order], stamps[order], hard[order]
    count, length = len(users), settings.bptt
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    position = np.arange(count) - np.repeat(starts, np.diff(np.r_[starts, count]))
    has_next = np.r_[users[1:] == users[:-1], False]
    window = np.cumsum(position % length == 0) - 1
    column = position % length
    num_windows = int(window[-1]) + 1 if count else 0
    inputs = np.full((num_windows, length), -1, dtype=np.int64)
    targets = np.full((num_windows, length), -1, dtype=np.int64)
    weights = np.zeros((num_windows, length), dtype=np.float32)
    negatives = np.full((num_windows, length, hard.shape[1]), -1, dtype=np.int64)
    inputs[window, column] = items
    source = np.flatnonzero(has_next)
    targets[window[source], column[source]] = items[source + 1]
    if settings.recency_mask and count and times.max() > times.min():
        # recent events count up to 3x as much as the oldest: tastes and catalogues drift
        recency = 0.5 + (times - times.min()) / (times.max() - times.min())
    else:
        recency = np.ones(count)
    weights[window[source], column[source]] = recency[source + 1]
    negatives[window[source], column[source]] = hard[source + 1]
    useful = (targets >= 0).any(axis=1)
    return Windows(torch.from_numpy(inputs[useful]), torch.from_numpy(targets[useful]),
                   torch.from_numpy(weights[useful]), torch.from_numpy(negatives[useful]))


# --- the model --------------------------------------------------------------------------

class UserPersonalizationModel(Model):
    recipe_name = NAME

    def __init__(self, item_ids: list[str], network: SequenceNetwork, features: torch.Tensor,
                 stats: ItemStatistics, spec: FeatureSpec, settings: Settings,
                 recipe_name: str = NAME):
        self.recipe_name = recipe_name
        self.item_ids = list(item_ids)
        self.index = {item: row for row, item in enumerate(self.item_ids)}
        self.network = network.eval()
        self.features = features
        self.stats = stats
        self.spec = spec
        self.settings = settings
        self.refresh()

    def refresh(self) -> None:
        """Precompute what serving needs: z and b for every item, the popularity prior."""
        with torch.no_grad():
            rows = torch.arange(len(self.item_ids))
            self._z = self.network.item_vectors(rows, self.features) if len(rows) else \
                torch.zeros(0, self.settings.hidden_dimension)
            self._b = self.network.bias(rows) if len(rows) else torch.zeros(0)
        popularity = torch.from_numpy(self.stats.popularity.astype(np.float32)) + 1e-3
        self._log_popularity = torch.log(popularity / popularity.sum())

    # scoring ---------------------------------------------------------------------------
    def _rows(self, history: list[str]) -> list[int]:
        return [self.index[i] for i in history if i in self.index]

    def user_state(self, rows: list[int]) -> torch.Tensor:
        """h_u: the GRU's last state over the latest `bptt` items."""
        rows = rows[-self.settings.bptt:]
        if not rows:
            return torch.zeros(self.settings.hidden_dimension)
        with torch.no_grad():
            inputs = self._z[torch.tensor(rows)][None]
            outputs, _ = self.network.gru(inputs)
        return outputs[0, -1]

    def exploitation(self, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(p, affinity) over the catalogue. p: the GRU's softmax blended with recent
        popularity. affinity: the personal part alone, as log-weights scaled by how much we
        know about the user (0 = nothing: every item equally plausible)."""
        with torch.no_grad():
            logits = self._z @ self.user_state(rows) + self._b
            personal = torch.log_softmax(logits, dim=0)
        # A geometric blend: popularity lifts items the user may like, but cannot push an
        # item the sequence model firmly rules out back to the top.
        prior = COLD_USER_PRIOR / (COLD_USER_PRIOR + len(rows))
        blended = torch.softmax((1 - prior) * personal + prior * self._log_popularity, dim=0)
        return blended, (1 - prior) * personal

    def recommend(self, user_id, history, num_results, mask=None, exploration_weight=0.3,
                  exploration_item_age_cut_off=30.0, now=None) -> Scored:
        if not self.item_ids or num_results <= 0:
            return []
        rows = self._rows(history)
        exploit, affinity = self.exploitation(rows)
        allowed = torch.ones(len(self.item_ids), dtype=torch.bool) if mask is None \
            else torch.as_tensor(np.asarray(mask, dtype=bool))
        seen = torch.zeros_like(allowed)
        if rows:
            seen[torch.tensor(rows)] = True
        candidates = allowed & ~seen
        explore = None
        if exploration_weight and exploration_weight > 0:
            bonus = exploration_bonus(self.stats, now, exploration_item_age_cut_off)
            explore = exploration_distribution(bonus, affinity, candidates)
        generator = torch.Generator().manual_seed(_request_seed(user_id, rows, now))
        picked = blend(exploit, explore, exploration_weight or 0.0, candidates, num_results,
                       generator)
        if len(picked) < num_results:  # not enough unseen items: history items may return
            refill = allowed & seen
            picked += blend(exploit, None, 0.0, refill, num_results - len(picked), generator)
        return [(self.item_ids[i], score) for i, score in picked]

    def rank(self, user_id, history, item_ids) -> Scored:
        """Scores renormalised over the given items (they sum to 1); unknown items last."""
        exploit, _ = self.exploitation(self._rows(history))
        known = [i for i in item_ids if i in self.index]
        unknown = [i for i in item_ids if i not in self.index]
        if not known:
            return [(i, 0.0) for i in item_ids]
        scores = exploit[torch.tensor([self.index[i] for i in known])]
        scores = scores / scores.sum().clamp_min(1e-30)
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        return [(known[k], float(scores[k])) for k in order] + [(i, 0.0) for i in unknown]

    def related_items(self, item_id, num_results, mask=None) -> Scored:
        """Items whose vectors z are most cosine-similar to the given item's."""
        if item_id not in self.index:
            return []
        unit = torch.nn.functional.normalize(self._z, dim=1)
        row = self.index[item_id]
        similarity = (unit @ unit[row] + 1) / 2  # in [0, 1]
        allowed = torch.ones(len(self.item_ids), dtype=torch.bool) if mask is None \
            else torch.tensor(np.asarray(mask, dtype=bool))  # a copy: the caller's mask stays
        allowed[row] = False
        count = min(num_results, int(allowed.sum()))
        if count <= 0:
            return []
        top = torch.topk(similarity.masked_fill(~allowed, -1.0), count)
        return [(self.item_ids[i], float(s)) for s, i in zip(top.values.tolist(),
                                                              top.indices.tolist())]

    # persistence -----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {f"network.{k}": v.detach().clone()
                 for k, v in self.network.state_dict().items()}
        state["features"] = self.features
        for name, array in self.stats.arrays().items():
            state[f"stats.{name}"] = torch.from_numpy(np.ascontiguousarray(array))
        torch.save(state, directory / STATE_FILE)
        meta = {"recipe": self.recipe_name, "item_ids": self.item_ids,
                "feature_width": int(self.features.shape[1]), "spec": self.spec.to_json(),
                "settings": self.settings.to_json()}
        (directory / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: Path) -> "UserPersonalizationModel":
        directory = Path(directory)
        meta = json.loads((directory / META_FILE).read_text())
        state = torch.load(directory / STATE_FILE, weights_only=True)
        settings = Settings(**meta["settings"])
        network = SequenceNetwork(len(meta["item_ids"]), meta["feature_width"],
                                  settings.hidden_dimension)
        network.load_state_dict({k[len("network."):]: v for k, v in state.items()
                                 if k.startswith("network.")})
        stats = ItemStatistics(state["stats.first_seen"].numpy(),
                               state["stats.popularity"].numpy(),
                               state["stats.unclicked_impressions"].numpy())
        return cls(meta["item_ids"], network, state["features"], stats,
                   FeatureSpec.from_json(meta["spec"]), settings, meta["recipe"])


def _request_seed(user_id, rows: list[int], now) -> int:
    """Exploration draws are reproducible for the same request and vary between requests."""
    stamp = time.time() if now is None else float(now)
    key = f"{user_id}|{rows[-8:]}|{stamp:.3f}".encode()
    return zlib.crc32(key)


# --- training ---------------------------------------------------------------------------

class Trainer:
    """One training run: windows in, fitted SequenceNetwork out."""

    def __init__(self, network: SequenceNetwork, features: torch.Tensor, counts: np.ndarray,
                 settings: Settings, seed: int, log: Log):
        self.network, self.features, self.settings, self.log = network, features, settings, log
        self.num_items = len(counts)
        self.generator = torch.Generator().manual_seed(seed)
        mode = settings.softmax
        if mode == "auto":
            mode = "full" if self.num_items < FULL_SOFTMAX_BELOW else "sampled"
        self.full_softmax = mode == "full"
        self.num_negatives = settings.num_negatives or default_num_negatives(self.num_items)
        self.sampler = None if self.full_softmax else AliasSampler(unigram_proposal(counts))
        # ID dropout only makes sense when there is metadata to fall back on
        self.id_dropout = settings.id_dropout if bool((features[:, 0] > 0).any()) else 0.0
        self.sparse_optimizer = torch.optim.SparseAdam(network.sparse_parameters(),
                                                       lr=settings.learning_rate)
        self.dense_optimizer = torch.optim.Adam(network.dense_parameters(),
                                                lr=settings.learning_rate)

    def _keep(self, size: int) -> torch.Tensor | None:
        if self.id_dropout <= 0:
            return None
        return (torch.rand(size, generator=self.generator) >= self.id_dropout).float()

    def step(self, inputs, targets, weights, hard) -> tuple[float, int]:
        network = self.network
        width = int((inputs >= 0).any(0).nonzero().max()) + 1  # trim all-padding columns
        inputs, targets, weights, hard = (inputs[:, :width], targets[:, :width],
                                          weights[:, :width], hard[:, :width])
        valid_in, valid_out = inputs >= 0, targets >= 0
        flat_targets = targets[valid_out]
        flat_weights = weights[valid_out]
        if self.full_softmax:
            rows = torch.arange(self.num_items)
            z = network.item_vectors(rows, self.features, self._keep(self.num_items))
            x = z[inputs.clamp_min(0)] * valid_in[..., None]
            outputs, _ = network.gru(x)
            loss = full_softmax_loss(outputs[valid_out], flat_targets, z, network.bias(rows),
                                     flat_weights)
        else:
            negatives = self.sampler.draw(self.num_negatives, self.generator)
            flat_hard = hard[valid_out]
            pieces = [inputs[valid_in], flat_targets, negatives, flat_hard[flat_hard >= 0]]
            unique, inverse = torch.unique(torch.cat(pieces), return_inverse=True)
            z = network.item_vectors(unique, self.features, self._keep(len(unique)))
            bias = network.bias(unique)
            sizes = [len(p) for p in pieces]
            in_pos, out_pos, neg_pos, hard_pos = torch.split(inverse, sizes)
            x = torch.zeros(*inputs.shape, z.shape[1])
            x[valid_in] = z[in_pos]
            outputs, _ = network.gru(x)
            hard_index = torch.full(flat_hard.shape, 0, dtype=torch.long)
            hard_index[flat_hard >= 0] = hard_pos
            loss = sampled_softmax_loss(
                outputs[valid_out], flat_targets, z[out_pos], bias[out_pos], negatives,
                z[neg_pos], bias[neg_pos], self.sampler.log_q, flat_weights,
                flat_hard, z[hard_index], bias[hard_index])
        self.sparse_optimizer.zero_grad()
        self.dense_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(network.dense_parameters(), 5.0)
        self.sparse_optimizer.step()
        self.dense_optimizer.step()
        return float(loss.detach()), int(valid_out.sum())

    def fit(self, windows: Windows) -> dict[str, float]:
        settings, network = self.settings, self.network
        network.train()
        steps, events_total, started = 0, 0, time.perf_counter()
        mode = "full softmax" if self.full_softmax else \
            f"sampled softmax ({self.num_negatives} negatives)"
        self.log(f"training on {len(windows)} sequences, {self.num_items} items, {mode}")
        for epoch in range(settings.epochs):
            order = torch.randperm(len(windows), generator=self.generator)
            epoch_loss, epoch_events, epoch_start = 0.0, 0, time.perf_counter()
            for batch in order.split(settings.batch_size):
                loss, events = self.step(windows.inputs[batch], windows.targets[batch],
                                         windows.weights[batch], windows.hard_negatives[batch])
                steps += 1
                epoch_loss += loss * events
                epoch_events += events
                if steps % settings.log_every_steps == 0:
                    rate = epoch_events / max(time.perf_counter() - epoch_start, 1e-9)
                    self.log(f"step {steps}: loss {loss:.4f}, {rate:.0f} events/s")
                if settings.max_steps and steps >= settings.max_steps:
                    break
            seconds = max(time.perf_counter() - epoch_start, 1e-9)
            events_total += epoch_events
            self.log(f"epoch {epoch + 1}/{settings.epochs}: loss "
                     f"{epoch_loss / max(epoch_events, 1):.4f}, {epoch_events / seconds:.0f} events/s")
            if settings.max_steps and steps >= settings.max_steps:
                break
        network.eval()
        seconds = max(time.perf_counter() - started, 1e-9)
        return {"steps": steps, "events": events_total, "seconds": seconds,
                "events_per_second": events_total / seconds}


def initialise_cold_rows(network: SequenceNetwork, features: torch.Tensor,
                         warm: np.ndarray, cold: np.ndarray, popularity: np.ndarray) -> None:
    """ID embedding and bias of cold items = mean over their NEIGHBOURS nearest warm items
    in metadata space (the most popular warm items when there is no metadata to compare)."""
    if len(cold) == 0 or len(warm) == 0:
        return
    feats = features.numpy()
    has_metadata = feats[cold, 0] > 0
    neighbours = np.empty((len(cold), min(NEIGHBOURS, len(warm))), dtype=np.int64)
    popular = warm[np.argsort(-popularity[warm], kind="stable")[:neighbours.shape[1]]]
    neighbours[:] = popular
    if has_metadata.any() and (feats[warm, 0] > 0).any():
        described = warm[feats[warm, 0] > 0]
        near = nearest_neighbours(feats[described], feats[cold[has_metadata]],
                                  neighbours.shape[1])
        if near.shape[1] == neighbours.shape[1]:
            neighbours[has_metadata] = described[near]
    with torch.no_grad():
        embedding = network.item_embedding.weight
        bias = network.item_bias.weight
        index = torch.from_numpy(neighbours)
        embedding[torch.from_numpy(cold)] = embedding[index].mean(1)
        bias[torch.from_numpy(cold)] = bias[index].mean(1)


class UserPersonalizationRecipe(Recipe):
    name = NAME
    recipe_type = "USER_PERSONALIZATION"
    default_hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    model_class = UserPersonalizationModel

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> UserPersonalizationModel:
        settings = Settings.parse(hyperparameters)
        torch.manual_seed(seed)
        item_ids = catalogue_ids(data)
        index = {item: row for row, item in enumerate(item_ids)}
        spec = fit_feature_spec(data.items)
        features = torch.from_numpy(item_feature_matrix(spec, data.items, item_ids))
        table = data.interactions
        users = np.asarray(table.columns["USER_ID"], dtype=object).astype(str)
        rows = np.array([index[str(i)] for i in table.columns["ITEM_ID"]], dtype=np.int64)
        stamps = np.asarray(table.columns["TIMESTAMP"], dtype=np.float64)
        hard = impression_negatives(table, index, settings.max_impression_negatives)
        counts = np.bincount(rows, minlength=len(item_ids)).astype(np.float64)
        network = SequenceNetwork(len(item_ids), features.shape[1], settings.hidden_dimension)
        with torch.no_grad():  # start the bias at log popularity: faster, steadier start
            network.item_bias.weight[:, 0] = torch.from_numpy(
                np.log(counts + 1.0) - np.log(counts + 1.0).mean()).float()
        if len(rows):
            _, user_codes = np.unique(users, return_inverse=True)
            keep = kept_users(user_codes, settings)
            windows = build_windows(user_codes[keep], rows[keep], stamps[keep], hard[keep],
                                    settings)
            if len(windows):
                summary = Trainer(network, features, counts, settings, seed, log).fit(windows)
                log(f"trained {summary['steps']} steps, "
                    f"{summary['events_per_second']:.0f} events/s")
        stats = compute_item_statistics(index, table, data.items,
                                        settings.popularity_half_life_days)
        initialise_cold_rows(network, features, np.flatnonzero(counts > 0),
                             np.flatnonzero(counts == 0), stats.popularity)
        return UserPersonalizationModel(item_ids, network, features, stats, spec, settings,
                                        self.name)

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        """Add new items (ID rows from metadata neighbours), refresh statistics; the GRU,
        W and the existing item rows stay exactly as trained."""
        assert isinstance(model, UserPersonalizationModel)
        new_ids = [i for i in catalogue_ids(data) if i not in model.index]
        item_ids = model.item_ids + new_ids
        index = {item: row for row, item in enumerate(item_ids)}
        old_size, settings = len(model.item_ids), model.settings
        network = SequenceNetwork(len(item_ids), model.features.shape[1],
                                  settings.hidden_dimension)
        state = {k: v.detach().clone() for k, v in model.network.state_dict().items()}
        features = model.features
        if new_ids:
            new_features = torch.from_numpy(item_feature_matrix(model.spec, data.items, new_ids))
            features = torch.cat([model.features, new_features])
            for key in ("item_embedding.weight", "item_bias.weight"):
                old = state[key]
                state[key] = torch.cat([old, torch.zeros(len(new_ids), old.shape[1])])
        network.load_state_dict(state)
        stats = compute_item_statistics(index, data.interactions, data.items,
                                        settings.popularity_half_life_days, model.stats)
        if new_ids:
            # items first seen now, with no timestamp of their own, are new as of now
            fresh = np.isnan(stats.first_seen[old_size:])
            stats.first_seen[old_size:][fresh] = time.time()
            initialise_cold_rows(network, features, np.arange(old_size),
                                 np.arange(old_size, len(item_ids)), stats.popularity)
        log(f"update: {len(new_ids)} new items, {len(item_ids)} in all; GRU unchanged")
        return UserPersonalizationModel(item_ids, network, features, stats, model.spec,
                                        settings, model.recipe_name)


RECIPE = UserPersonalizationRecipe()
