"""The trained model as a campaign serves it: recommend, rank, related items, save/load."""
from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np
import torch

from chalicelib.models.exploration import ItemStatistics, blend
from chalicelib.models.item_features import FeatureSpec
from chalicelib.models.objective import Objective
from chalicelib.models.base import Model, Scored
from chalicelib.models.user_personalization.context import ContextSpec
from chalicelib.models.user_personalization.network import (ItemVectorNetwork,
                                                                      build_network)
from chalicelib.models.user_personalization.scoring import Scorer
from chalicelib.models.user_personalization.settings import TrainingSettings

NAME = "aws-user-personalization"
NAME_V2 = "aws-user-personalization-v2"
STATE_FILE = "user_personalization.pt"
META_FILE = "user_personalization.json"
# A user with n known events gets popularity weight COLD_USER_PRIOR / (COLD_USER_PRIOR + n):
# nothing known -> popularity, a few events in -> mostly the sequence model.
COLD_USER_PRIOR = 1.0


class UserPersonalizationModel(Model):
    recipe_name = NAME

    def __init__(self, item_ids: list[str], network: ItemVectorNetwork, features: torch.Tensor,
                 stats: ItemStatistics, spec: FeatureSpec, settings: TrainingSettings,
                 recipe_name: str = NAME, context: ContextSpec | None = None,
                 objective: Objective | None = None, boost: np.ndarray | None = None,
                 vectors: tuple[torch.Tensor, torch.Tensor] | None = None):
        """context: the interactions' context fields the network learned; objective and
        boost: the optimisation objective and its per-item log-probability boost;
        vectors: (z, b) of every item as this network computes them (saved with the model),
        instead of computing them again."""
        self.recipe_name = recipe_name
        self.context = context or ContextSpec()
        self.context_fields = tuple(self.context.fields)
        self.objective = objective
        self.boost = None if boost is None else np.asarray(boost, dtype=np.float32)
        self.item_ids = list(item_ids)
        self.index = {item: row for row, item in enumerate(self.item_ids)}
        self.network = network.eval()
        self.features = features
        self.stats = stats
        self.spec = spec
        self.settings = settings
        self.refresh(vectors)

    def refresh(self, vectors: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        """Precompute what serving needs: z and b for every item (unless given), and the
        Scorer's caches."""
        if vectors is not None and len(vectors[0]) == len(self.item_ids):
            self._z, self._b = vectors
        else:
            with torch.no_grad():
                self._z = self.network.all_item_vectors(self.features[:len(self.item_ids)])
                self._b = self.network.item_bias.weight[:len(self.item_ids), 0].clone()
        self._unit_z = None
        self.scorer = Scorer(self._z, self._b, self.stats, self.network.sequence,
                             self.settings.bptt, self.network.context_in, self.boost,
                             getattr(self.network, "last_state", None))

    def with_objective(self, objective: Objective | None, items) -> "UserPersonalizationModel":
        """The same trained network serving another optimisation objective (the objective
        only changes serving: training never sees it); `items`: the Items table."""
        return type(self)(self.item_ids, self.network, self.features, self.stats, self.spec,
                          self.settings, self.recipe_name, self.context, objective,
                          objective.boost(items, self.item_ids) if objective else None,
                          (self._z, self._b))

    # scoring ---------------------------------------------------------------------------
    def _rows(self, history: list[str]) -> list[int]:
        return [self.index[i] for i in history if i in self.index]

    def _state(self, history: list[str], context, history_context) -> tuple[list[int],
                                                                           torch.Tensor]:
        """(the history's item rows, the state that scores the next item): the sequence
        model over the history (with each event's context, when given: a list aligned
        with `history` of {FIELD: value} maps), conditioned on the request's context."""
        rows = self._rows(history)
        if not self.context_fields:
            return rows, self.scorer.user_state(rows)
        codes = None
        if history_context is not None and len(history_context) == len(history):
            codes = self.context.encode_many(
                [c for i, c in zip(history, history_context) if i in self.index])
        state = self.scorer.user_state(rows, codes)
        request = self.context.encode(context)
        if any(request):
            with torch.no_grad():
                state = self.network.conditioned(state, torch.tensor(request))
        return rows, state

    def prepare(self, histories: dict[str, list[str]]) -> None:
        if not self.context_fields:   # with context fields a state depends on the request's
            self.scorer.warm_states(self._rows(h) for h in histories.values())

    @staticmethod
    def popularity_prior(rows: list[int]) -> float:
        return COLD_USER_PRIOR / (COLD_USER_PRIOR + len(rows))

    def recommend(self, user_id, history, num_results, mask=None, exploration_weight=0.3,
                  exploration_item_age_cut_off=30.0, now=None, context=None,
                  history_context=None) -> Scored:
        if not self.item_ids or num_results <= 0:
            return []
        rows, state = self._state(history, context, history_context)
        weight = float(exploration_weight or 0.0)
        generator = torch.Generator().manual_seed(_request_seed(user_id, rows, now))
        space = self.scorer.space(state, self.popularity_prior(rows),
                                  rows, mask, num_results, weight > 0, now,
                                  exploration_item_age_cut_off, generator)
        picked = blend(space.exploit, space.explore, weight, space.candidates, num_results,
                       generator)
        if len(picked) < num_results:  # not enough unseen items: history items may return
            picked += blend(space.exploit, None, 0.0, space.history, num_results - len(picked),
                            generator)
        item_rows = space.item_rows([position for position, _ in picked])
        return [(self.item_ids[row], score) for row, (_, score) in zip(item_rows, picked)]

    def rank(self, user_id, history, item_ids, context=None, history_context=None) -> Scored:
        """Scores renormalised over the given items (they sum to 1); unknown items last.
        Only the given items are scored: the catalogue-wide normalisers cancel out."""
        rows, state = self._state(history, context, history_context)
        known = [i for i in item_ids if i in self.index]
        unknown = [i for i in item_ids if i not in self.index]
        if not known:
            return [(i, 0.0) for i in item_ids]
        prior = self.popularity_prior(rows)
        given = torch.tensor([self.index[i] for i in known])
        with torch.no_grad():
            logits = self._z[given] @ state + self._b[given]
        blended = (1 - prior) * logits + prior * self.scorer.log_popularity[given]
        if self.scorer.boost is not None:
            blended = blended + self.scorer.boost[given]
        scores = torch.softmax(blended, dim=0)
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        return [(known[k], float(scores[k])) for k in order] + [(i, 0.0) for i in unknown]

    def related_items(self, item_id, num_results, mask=None) -> Scored:
        """Items whose vectors z are most cosine-similar to the given item's."""
        if item_id not in self.index:
            return []
        if self._unit_z is None:
            self._unit_z = torch.nn.functional.normalize(self._z, dim=1)
        unit = self._unit_z
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
        state = {f"network.{k}": v.detach()
                 for k, v in self.network.state_dict().items()}
        state["features"] = self.features
        for name, array in self.stats.arrays().items():
            state[f"stats.{name}"] = torch.from_numpy(np.ascontiguousarray(array))
        if self.boost is not None:
            state["objective.boost"] = torch.from_numpy(self.boost)
        state["serving.z"], state["serving.b"] = self._z, self._b
        torch.save(state, directory / STATE_FILE)
        meta = {"recipe": self.recipe_name, "item_ids": self.item_ids,
                "feature_width": int(self.features.shape[1]), "spec": self.spec.to_json(),
                "settings": self.settings.to_json(), "context": self.context.to_json(),
                "objective": self.objective.to_json() if self.objective else None}
        (directory / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: Path) -> "UserPersonalizationModel":
        """The saved model, its tensors memory-mapped from the file rather than read: at 10M
        items E, F and z are 6, 5 and 6 GB, and serving reads only z (saved, so neither E
        nor F is touched) while several processes serving the same file share its pages.
        The network is built on the meta device and takes the file's tensors as they are
        (no random initialisation to overwrite, no second copy). A deployment is replaced
        by renaming folders (deployment.replace_deployment), never rewritten in place, so a
        mapped file does not change under its readers."""
        directory = Path(directory)
        meta = json.loads((directory / META_FILE).read_text())
        state = torch.load(directory / STATE_FILE, weights_only=True, mmap=True)
        settings = TrainingSettings(**meta["settings"])
        context = ContextSpec.from_json(meta.get("context"))
        with torch.device("meta"):
            network = build_network(settings, len(meta["item_ids"]), meta["feature_width"],
                                    context.sizes)
        network.load_state_dict({k[len("network."):]: v for k, v in state.items()
                                 if k.startswith("network.")}, assign=True)
        stats = ItemStatistics(state["stats.first_seen"].numpy(),
                               state["stats.popularity"].numpy(),
                               state["stats.unclicked_impressions"].numpy())
        boost = state.get("objective.boost")
        return cls(meta["item_ids"], network, state["features"], stats,
                   FeatureSpec.from_json(meta["spec"]), settings, meta["recipe"], context,
                   Objective.from_json(meta.get("objective")),
                   None if boost is None else boost.numpy(),
                   (state["serving.z"], state["serving.b"]) if "serving.z" in state else None)


def _request_seed(user_id, rows: list[int], now) -> int:
    """Exploration draws are reproducible for the same request and vary between requests."""
    stamp = time.time() if now is None else float(now)
    key = f"{user_id}|{rows[-8:]}|{stamp:.3f}".encode()
    return zlib.crc32(key)
