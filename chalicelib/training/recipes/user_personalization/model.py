"""The trained model as a campaign serves it: recommend, rank, related items, save/load."""
from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np
import torch

from chalicelib.training.exploration import (ItemStatistics, blend, exploration_bonus,
                                             exploration_distribution)
from chalicelib.training.item_features import FeatureSpec
from chalicelib.training.recipes.base import Model, Scored
from chalicelib.training.recipes.user_personalization.network import SequenceNetwork
from chalicelib.training.recipes.user_personalization.settings import Settings

NAME = "aws-user-personalization"
STATE_FILE = "user_personalization.pt"
META_FILE = "user_personalization.json"
# A user with n known events gets popularity weight COLD_USER_PRIOR / (COLD_USER_PRIOR + n):
# nothing known -> popularity, a few events in -> mostly the sequence model.
COLD_USER_PRIOR = 1.0


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
