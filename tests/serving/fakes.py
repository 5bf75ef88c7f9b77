"""A serving fixture without training: a store with the records a deployed campaign has,
and a deterministic model (scores fixed per item), so provider logic is tested alone."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.records import kinds
from chalicelib.serving.model_cache import Deployed
from chalicelib.serving.provider import RuntimeProvider
from chalicelib.wire.gateway import RequestContext

PREFIX = "arn:aws:personalize:us-east-1:000000000000"
GROUP = f"{PREFIX}:dataset-group/g"
ITEMS_DATASET = f"{PREFIX}:dataset/g/ITEMS"
USERS_DATASET = f"{PREFIX}:dataset/g/USERS"
VERSION = f"{PREFIX}:solution/s/v1"
CAMPAIGN = f"{PREFIX}:campaign/c"


class ScoreModel:
    """Item i scores 1/(i+1): the best items are the first ids. History is not re-offered."""
    recipe_name = "fake"

    def __init__(self, n: int):
        self.item_ids = [f"i{i}" for i in range(n)]
        self.scores = 1.0 / (np.arange(n) + 1.0)
        self.position = {item: i for i, item in enumerate(self.item_ids)}

    def _top(self, scores, n, mask, exclude=()):
        scores = scores.copy()
        if mask is not None:
            scores[~mask] = -np.inf
        for item in exclude:
            if item in self.position:
                scores[self.position[item]] = -np.inf
        order = np.argsort(-scores, kind="stable")[:n]
        return [(self.item_ids[i], float(scores[i])) for i in order if scores[i] > -np.inf]

    def recommend(self, user_id, history, num_results, mask=None, **_):
        return self._top(self.scores, num_results, mask, history)

    def related_items(self, item_id, num_results, mask=None):
        return self._top(self.scores, num_results, mask, [item_id])

    def rank(self, user_id, history, item_ids):
        known = [i for i in item_ids if i in self.position]
        return sorted(((i, float(self.scores[self.position[i]])) for i in known),
                      key=lambda p: -p[1])


ITEMS_SCHEMA = {"type": "record", "name": "Items", "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "GENRE", "type": "string", "categorical": True},
    {"name": "PRICE", "type": "float"},
    {"name": "DESCRIPTION", "type": "string", "textual": True}]}
USERS_SCHEMA = {"type": "record", "name": "Users", "fields": [
    {"name": "USER_ID", "type": "string"}, {"name": "TIER", "type": "string"}]}
INTERACTIONS_SCHEMA = {"type": "record", "name": "Interactions", "fields": [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}]}


@dataclass
class Served:
    provider: RuntimeProvider
    backend: object
    model: ScoreModel

    def call(self, operation: str, **params):
        ctx = RequestContext("personalize-runtime", operation, "000000000000", "us-east-1")
        return getattr(self.provider, operation)(ctx, **params)

    def add_filter(self, name: str, expression: str, group: str = GROUP) -> str:
        arn = f"{PREFIX}:filter/{name}"
        self.backend.store.put(kinds.FILTER.key, arn, {
            "name": name, "filterArn": arn, "status": "ACTIVE", "datasetGroupArn": group,
            "filterExpression": expression, "creationDateTime": 0})
        return arn


def _put(backend, kind, arn, **doc):
    backend.store.put(kind.key, arn, {kind.arn_field: arn, "status": "ACTIVE",
                                      "creationDateTime": 0, **doc})


def served(tmp_path, n_items: int = 50, recipe_type: str = "USER_PERSONALIZATION",
           metadata: bool = True) -> Served:
    backend = build_backend(Settings(data_dir=tmp_path))
    for name, schema, dataset, dtype in (
            ("items", ITEMS_SCHEMA, ITEMS_DATASET, "Items"),
            ("users", USERS_SCHEMA, USERS_DATASET, "Users"),
            ("interactions", INTERACTIONS_SCHEMA, f"{PREFIX}:dataset/g/INTERACTIONS",
             "Interactions")):
        schema_arn = f"{PREFIX}:schema/{name}"
        _put(backend, kinds.SCHEMA, schema_arn, schema=json.dumps(schema))
        _put(backend, kinds.DATASET, dataset, schemaArn=schema_arn, datasetGroupArn=GROUP,
             datasetType=dtype)
    _put(backend, kinds.SOLUTION_VERSION, VERSION, datasetGroupArn=GROUP,
         recipeArn="arn:aws:personalize:::recipe/fake", solutionArn=f"{PREFIX}:solution/s")
    _put(backend, kinds.CAMPAIGN, CAMPAIGN, solutionVersionArn=VERSION,
         datasetGroupArn=GROUP,
         campaignConfig={"enableMetadataWithRecommendations": metadata})
    genres = ["comedy", "drama", "action|comedy"]
    backend.events.upsert_records(ITEMS_DATASET, "ITEM_ID", [
        {"ITEM_ID": f"i{i}", "GENRE": genres[i % 3], "PRICE": float(i)}
        for i in range(n_items)])
    backend.events.upsert_records(USERS_DATASET, "USER_ID", [
        {"USER_ID": "u1", "TIER": "gold"}, {"USER_ID": "u2", "TIER": "free"}])
    provider = RuntimeProvider(backend)
    model = ScoreModel(n_items)
    provider.engine.models.get = lambda version: Deployed(model, {"u1": ["i0"]}, 0)
    provider.engine._recipe_types["arn:aws:personalize:::recipe/fake"] = recipe_type
    return Served(provider, backend, model)
