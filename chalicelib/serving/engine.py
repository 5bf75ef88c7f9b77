"""The serving engine: recommendations and rankings over one deployed solution version and
the configuration it is served with (a campaign's or recommender's config, or a batch
job's). It owns what an answer depends on: the model (loaded once), the user's history
with the events received since training, filters and promotions, the exploration
settings, and the items' metadata columns.

The personalize-runtime provider (chalicelib/serving/provider.py) finds what a request
names and keeps the API's limits and response shapes; batch inference and batch segments
(chalicelib/batch/inference.py) call the engine directly.

The hot path per request: one indexed query for the user's live events, then numpy/torch
work on cached state (the model, the item catalog and its cached filter masks). Nothing
scans a table per request.
"""
from __future__ import annotations

import numpy as np

from chalicelib.datasets.reader import SchemaCache
from chalicelib.datasets.schema import field_name
from chalicelib.errors import InvalidInputException
from chalicelib.filters import FilterContext
from chalicelib.models import get_recipe
from chalicelib.serving import promotions as promos
from chalicelib.serving.catalog import CatalogCache, ItemCatalog
from chalicelib.serving.filtering import FilterResolver
from chalicelib.serving.model_cache import Deployed, ModelCache
from chalicelib.serving.requirements import check_filters_have_user

MAX_METADATA_COLUMNS = 10
MAX_RANKING_INPUT = 500
MAX_RANKING_INPUT_WITH_METADATA = 50


def check_ranking_input(items: list, columns: list[str]) -> None:
    """GetPersonalizedRanking's inputList limit (lower when metadata is asked for)."""
    limit = MAX_RANKING_INPUT_WITH_METADATA if columns else MAX_RANKING_INPUT
    if len(items) > limit:
        raise InvalidInputException(
            f"inputList has {len(items)} items; the maximum is {limit}"
            + (" when metadata is requested." if columns else "."))


class ServingEngine:
    def __init__(self, backend):
        self.backend = backend
        self.models = ModelCache(backend.artifacts, backend.settings.serving_threads)
        self.catalogs = CatalogCache(backend)
        self.filters = FilterResolver(backend.registry)
        self.schemas = SchemaCache(backend.registry)
        self._recipe_types: dict[str, str] = {}

    # -- what is served ---------------------------------------------------------------------
    def recipe_type(self, recipe_arn: str) -> str:
        found = self._recipe_types.get(recipe_arn)
        if found is None:
            found = self._recipe_types[recipe_arn] = get_recipe(recipe_arn).recipe_type
        return found

    def deployed(self, version: dict) -> Deployed:
        return self.models.get(version)

    def catalog(self, version: dict, deployed: Deployed) -> ItemCatalog:
        key = (version["solutionVersionArn"], deployed.revision)
        model = deployed.model
        positions = getattr(model, "index", None)
        return self.catalogs.items(key, version["datasetGroupArn"], model.item_ids,
                                   positions if isinstance(positions, dict) else None)

    # -- the user -------------------------------------------------------------------------
    def live_events(self, deployed: Deployed, group: str, user_id: str | None,
                    since_training: bool = True) -> list[dict]:
        """The user's stored events: only those after training (for the history), or all
        of them (interaction filters must also see events the model was trained on)."""
        if not user_id:
            return []
        return self.backend.events.user_events(
            group, user_id, after_seq=deployed.event_seq if since_training else 0)

    def history(self, deployed: Deployed, dataset_group_arn: str, user_id: str | None,
                live: list[dict] | None = None) -> list[str]:
        """The user's items, oldest first: training data, then events received since."""
        if not user_id:
            return []
        if live is None:
            live = self.live_events(deployed, dataset_group_arn, user_id)
        fresh = [e["ITEM_ID"] for e in _fresh(deployed, live)]
        return deployed.histories.get(user_id, []) + fresh

    def context_args(self, deployed: Deployed, user_id: str | None, live: list[dict],
                     context: dict | None) -> dict:
        """For a model that learned context fields: the request's context (keys as the
        schema names the fields, in any case) and each history event's context, the
        training events' and then the live events' own (PutEvents properties)."""
        fields = getattr(deployed.model, "context_fields", ())   # models predating it: none
        if not fields:
            return {}
        request = {field_name(k): v for k, v in (context or {}).items()}
        past = deployed.history_contexts.get(user_id, []) if user_id else []
        if user_id and len(past) != len(deployed.histories.get(user_id, [])):
            return {"context": request}   # a model saved without them: contexts unknown
        fresh = [{f: e.get(f) for f in fields} for e in _fresh(deployed, live)]
        return {"context": request, "history_context": past + fresh}

    # -- filters --------------------------------------------------------------------------
    def filter_mask(self, catalog: ItemCatalog, flt, values, group, user_id, live,
                     item_id=None, index=None) -> np.ndarray:
        """The filter over `index` (default: the catalog's, with its overlay)."""
        context = {}
        if flt.uses_interactions:
            context["interactions"] = self.catalogs.interactions(group).for_user(user_id, live)
        if flt.uses_users:
            context["user"] = self.catalogs.users(group).metadata(user_id)
        if flt.uses_current_item:
            # Resolved here (overlay included) so CurrentItem sees the latest PutItems.
            context["current_item_metadata"] = (catalog.metadata(item_id) or {}) if item_id \
                else None
        if index is not None:
            return flt.mask(FilterContext(index, **context), values or {})
        return catalog.mask(flt, values or {}, **context)

    def item_mask(self, version: dict, deployed: Deployed, flt) -> np.ndarray:
        """A filter of item metadata only (no user), over the deployed model's items."""
        return self.catalog(version, deployed).mask(flt, {})

    # -- metadata -------------------------------------------------------------------------
    def metadata_columns(self, config: dict, metadata_columns: dict | None,
                         group: str) -> list[str]:
        """The Items columns a request asks to see, checked against the config and the
        schema (InvalidInputException as AWS words it)."""
        if not metadata_columns:
            return []
        if not config.get("enableMetadataWithRecommendations"):
            raise InvalidInputException(
                "Metadata columns were requested, but the campaign was not created with "
                "enableMetadataWithRecommendations set to true in its campaignConfig.")
        unknown_keys = set(metadata_columns) - {"ITEMS"}
        if unknown_keys:
            raise InvalidInputException(
                f"metadataColumns keys must be ITEMS; got {', '.join(sorted(unknown_keys))}.")
        columns = list(metadata_columns["ITEMS"])
        if len(columns) > MAX_METADATA_COLUMNS:
            raise InvalidInputException(
                f"metadataColumns may name at most {MAX_METADATA_COLUMNS} columns.")
        schema = self.schemas.fields(group).get("Items")
        if schema is None:
            raise InvalidInputException(
                "metadataColumns needs an Items dataset in the dataset group.")
        missing = [c for c in columns if c.upper() not in schema]
        if missing:
            raise InvalidInputException(
                f"Column(s) {', '.join(missing)} are not in the Items dataset schema.")
        return columns

    def _with_metadata(self, entries: list[dict], catalog: ItemCatalog,
                       columns: list[str]) -> list[dict]:
        for entry in entries:
            entry["metadata"] = catalog.item_metadata(entry["itemId"], columns)
        return entries

    # -- answers --------------------------------------------------------------------------
    def recommend(self, version: dict, config: dict, count: int, *, user_id=None,
                  item_id=None, filter_arn=None, filter_values=None, promotion=None,
                  columns=(), context=None) -> list[dict]:
        """[{itemId, score[, promotionName][, metadata]}]: related items for `item_id`
        (RELATED_ITEMS recipes) or the user's recommendations, with exploration as
        `config` sets it; `columns` as metadata_columns checked them."""
        recipe_type = self.recipe_type(version["recipeArn"])
        group = version["datasetGroupArn"]
        flt = self.filters.resolve(filter_arn, group) if filter_arn else None
        promo_filter = None
        if promotion is not None:
            if not promotion.get("filterArn"):
                raise InvalidInputException("A promotion needs a filterArn.")
            promo_filter = self.filters.resolve(promotion["filterArn"], group)
        check_filters_have_user(user_id, (flt, promo_filter))

        deployed = self.models.get(version)
        needs_all_events = any(f is not None and f.uses_interactions
                               for f in (flt, promo_filter))
        live = self.live_events(deployed, group, user_id, since_training=not needs_all_events)
        history = self.history(deployed, group, user_id, live)
        contexts = self.context_args(deployed, user_id, live, context) \
            if recipe_type == "USER_PERSONALIZATION" else {}
        catalog = self.catalog(version, deployed) if (flt or promo_filter or columns) \
            else None

        def top(n: int, mask):
            if n <= 0:
                return []
            if recipe_type == "RELATED_ITEMS":
                return deployed.model.related_items(item_id, n, mask)
            exploration = config.get("itemExplorationConfig", {})
            return deployed.model.recommend(
                user_id, history, n, mask,
                exploration_weight=float(exploration.get("explorationWeight", 0.3)),
                exploration_item_age_cut_off=float(
                    exploration.get("explorationItemAgeCutOff", 30)), **contexts)

        mask = None if flt is None else self.filter_mask(
            catalog, flt, filter_values, group, user_id, live, item_id)
        if promotion is None:
            items = [{"itemId": i, "score": s} for i, s in top(count, mask)]
        else:
            promo_mask = self.filter_mask(catalog, promo_filter,
                                           promotion.get("filterValues"), group, user_id,
                                           live, item_id)
            promoted = top(promos.promoted_count(count, promotion.get(
                "percentPromotedItems", 100)), promo_mask)
            regular_mask = np.ones(len(promo_mask), dtype=bool) if mask is None else mask
            for item, _ in promoted:   # an item is shown once: promoted wins
                position = catalog.position(item)
                if position is not None:
                    regular_mask[position] = False
            regular = top(count - len(promoted), regular_mask)
            items = promos.merge(regular, promoted, promotion.get("name", ""), count)
        return self._with_metadata(items, catalog, columns) if columns else items

    def rank(self, version: dict, user_id: str, items: list[str], *, filter_arn=None,
             filter_values=None, columns=(), context=None) -> list[dict]:
        """[{itemId, score[, metadata]}]: the given items in the user's order, a
        permutation of them (items a filter removes are left out)."""
        group = version["datasetGroupArn"]
        flt = self.filters.resolve(filter_arn, group) if filter_arn else None
        deployed = self.models.get(version)
        live = self.live_events(deployed, group, user_id,
                                since_training=not (flt and flt.uses_interactions))
        history = self.history(deployed, group, user_id, live)
        candidates = list(dict.fromkeys(items))
        if flt is not None:   # items the filter removes are left out of the ranking
            catalog = self.catalog(version, deployed)
            keep = self.filter_mask(catalog, flt, filter_values, group, user_id, live,
                                     index=catalog.small_index(candidates))
            candidates = [i for i, k in zip(candidates, keep) if k]
        ranked = deployed.model.rank(
            user_id, history, candidates,
            **self.context_args(deployed, user_id, live, context)) if candidates else []
        # A permutation of the input: items the model does not know go last, as AWS does.
        seen = {item for item, _ in ranked}
        ranked = list(ranked) + [(i, 0.0) for i in candidates if i not in seen]
        out = [{"itemId": i, "score": s} for i, s in ranked]
        if columns:
            return self._with_metadata(out, self.catalog(version, deployed), columns)
        return out


def _fresh(deployed: Deployed, live: list[dict]) -> list[dict]:
    """The live events with an item that the model has not been trained on."""
    return [e for e in live if e.get("ITEM_ID") and e.get("SEQ", 0) > deployed.event_seq]
