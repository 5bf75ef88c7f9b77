"""What a campaign's answer is made of, for the console: which slots exploration filled,
the items' metadata, and why an item was recommended to a user.

Reads through the same RuntimeProvider and serving engine that answer GetRecommendations
(the engine's model cache, catalogs and user histories), so what the console explains is
what the API served.
"""
from __future__ import annotations

import numpy as np

from chalicelib.errors import InvalidInputException
from chalicelib.serving.catalog import cell_text

RECENT_HISTORY = 20


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def nearest(vectors: np.ndarray, row: int, count: int) -> list[tuple[int, float]]:
    """Rows most cosine-similar to `row` (itself excluded), with their similarity."""
    if len(vectors) < 2 or not np.any(vectors[row]):
        return []
    unit = _unit(vectors)
    similarity = unit @ unit[row]
    similarity[row] = -np.inf
    order = np.argsort(-similarity, kind="stable")[:count]
    return [(int(i), float(similarity[i])) for i in order if np.isfinite(similarity[i])]


class ServingInspector:
    def __init__(self, runtime):
        self.runtime = runtime   # chalicelib.serving.provider.RuntimeProvider
        self.engine = runtime.engine

    def _deployed(self, campaign_arn: str):
        campaign, version = self.runtime._campaign(campaign_arn)
        return campaign, version, self.engine.deployed(version)

    def exploitation_items(self, campaign_arn: str, user_id: str, count: int,
                           filter_arn: str | None = None,
                           filter_values: dict | None = None) -> list[str]:
        """The items GetRecommendations would give with exploration off: a slot of the
        real answer holding anything else was filled by exploration."""
        campaign, version, deployed = self._deployed(campaign_arn)
        group = version["datasetGroupArn"]
        live = self.engine.live_events(deployed, group, user_id, since_training=False)
        history = self.engine.history(deployed, group, user_id)
        mask = None
        if filter_arn:
            catalog = self.engine.catalog(version, deployed)
            flt = self.engine.filters.resolve(filter_arn, group)
            mask = self.engine.filter_mask(catalog, flt, filter_values, group, user_id, live)
        try:
            scored = deployed.model.recommend(user_id, history, count, mask,
                                              exploration_weight=0.0)
        except NotImplementedError:
            return []
        return [item for item, _ in scored]

    def item_metadata(self, campaign_arn: str, item_ids: list[str]) -> dict[str, dict]:
        """Item id -> its current metadata fields as text (ITEM_ID left out)."""
        _, version, deployed = self._deployed(campaign_arn)
        catalog = self.engine.catalog(version, deployed)
        out = {}
        for item in item_ids:
            record = catalog.metadata(item) or {}
            out[item] = {k: text for k, v in record.items() if k != "ITEM_ID"
                         and (text := cell_text(v)) is not None}
        return out

    def why(self, campaign_arn: str, user_id: str | None, item_id: str,
            count: int = 10) -> dict:
        """The item's nearest neighbours in the model's item spaces (z = W[e; f], and E
        and F apart where the model has them) and the user's recent history, each past
        item with its similarity to this one in z (how much it pulled the score up)."""
        _, version, deployed = self._deployed(campaign_arn)
        model = deployed.model
        index = {item: row for row, item in enumerate(model.item_ids)}
        if item_id not in index:
            raise InvalidInputException(f"Item {item_id} is not in the model's catalogue.")
        row = index[item_id]
        spaces = self._spaces(model)
        neighbours = {name: [(model.item_ids[i], s) for i, s in nearest(vectors, row, count)]
                      for name, vectors in spaces.items()}
        history = self.engine.history(deployed, version["datasetGroupArn"], user_id) \
            if user_id else []
        recent = history[-RECENT_HISTORY:]
        z = spaces.get("z")
        influence = []
        for item in reversed(recent):   # newest first
            other = index.get(item)
            similarity = None
            if z is not None and other is not None:
                pair = _unit(z[[row, other]])
                similarity = float(pair[0] @ pair[1])
            influence.append((item, similarity))
        rank = score = None
        candidates = model.item_ids
        if user_id:
            seen = set(history)   # recommendations leave out what the user already had
            candidates = [i for i in model.item_ids if i not in seen or i == item_id]
            try:   # its place among the items the user has not had, exploration off
                ranking = model.rank(user_id, history, candidates)
            except NotImplementedError:
                ranking = []
            for position, (item, value) in enumerate(ranking):
                if item == item_id:
                    rank, score = position + 1, value
                    break
        return {"itemId": item_id, "neighbours": neighbours, "history": influence,
                "historyLength": len(history), "rank": rank, "score": score,
                "candidates": len(candidates)}

    @staticmethod
    def _spaces(model) -> dict[str, np.ndarray]:
        """Item vectors by space name: 'z' (what the model scores with), 'E' (item-ID
        embedding) and 'F' (metadata features) for the user-personalization family."""
        spaces = {}
        z = getattr(model, "_z", None)
        if z is not None:
            spaces["z"] = np.asarray(z.detach().numpy() if hasattr(z, "detach") else z)
        network = getattr(model, "network", None)
        if network is not None and hasattr(network, "item_embedding"):
            spaces["E"] = network.item_embedding.weight.detach().numpy()
        features = getattr(model, "features", None)
        if features is not None and hasattr(features, "numpy") and features.shape[1] > 0 \
                and bool((features != 0).any()):
            spaces["F"] = features.numpy()
        return spaces
