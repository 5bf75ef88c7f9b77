"""personalize-runtime operations: GetRecommendations, GetPersonalizedRanking.

The hot path per request: one store read for the campaign and one for its version, one
indexed query for the user's live events, then numpy/torch work on cached state (the
model, the item catalog and its cached filter masks). Nothing scans a table per request.
"""
from __future__ import annotations

import uuid

import numpy as np

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.resources import kinds
from chalicelib.events.schema_fields import SchemaCache
from chalicelib.serving import promotions as promos
from chalicelib.serving.actions import ActionRecommendationOperations
from chalicelib.serving.catalog import CatalogCache, ItemCatalog
from chalicelib.serving.filtering import FilterResolver
from chalicelib.serving.model_cache import Deployed, ModelCache
from chalicelib.serving.requirements import (check_filters_have_user,
                                             check_recommendation_request)

DEFAULT_RESULTS = 25
MAX_RESULTS = 500
MAX_RANKING_INPUT = 500
MAX_RANKING_INPUT_WITH_METADATA = 50
MAX_METADATA_COLUMNS = 10
SERVING_STATUSES = ("ACTIVE", "UPDATE PENDING", "UPDATE IN_PROGRESS")


def recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


def _config(campaign: dict) -> dict:
    """campaignConfig, or recommenderConfig when a recommender is served."""
    return campaign.get("campaignConfig") or campaign.get("recommenderConfig") or {}


class RuntimeProvider(ActionRecommendationOperations):
    def __init__(self, backend):
        self.backend = backend
        self.registry = backend.registry
        self.models = ModelCache(backend.artifacts, backend.settings.serving_threads)
        self.catalogs = CatalogCache(backend)
        self.filters = FilterResolver(self.registry)
        self.schemas = SchemaCache(self.registry)
        self._recipe_types: dict[str, str] = {}

    # -- what is being served ---------------------------------------------------------------
    def _campaign(self, campaign_arn: str | None) -> tuple[dict, dict]:
        if campaign_arn is None:
            raise InvalidInputException("campaignArn or recommenderArn is required.")
        if campaign_arn.split(":")[-1].startswith("recommender/"):
            from chalicelib.resources.recommenders import served_recommender
            return served_recommender(self.registry, campaign_arn)
        campaign = self.registry.find(kinds.CAMPAIGN, campaign_arn)
        if campaign is None or campaign["status"] not in SERVING_STATUSES:
            raise ResourceNotFoundException(f"Campaign {campaign_arn} does not exist or is "
                                            "not ACTIVE.")
        version = self.registry.get(kinds.SOLUTION_VERSION, campaign["solutionVersionArn"])
        return campaign, version

    def _recipe_type(self, recipe_arn: str) -> str:
        found = self._recipe_types.get(recipe_arn)
        if found is None:
            from chalicelib.training.recipes import get_recipe
            found = self._recipe_types[recipe_arn] = get_recipe(recipe_arn).recipe_type
        return found

    def _catalog(self, version: dict, deployed: Deployed) -> ItemCatalog:
        key = (version["solutionVersionArn"], deployed.revision)
        return self.catalogs.items(key, version["datasetGroupArn"], deployed.model.item_ids)

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
        from chalicelib.events.provider import field_name
        request = {field_name(k): v for k, v in (context or {}).items()}
        past = deployed.history_contexts.get(user_id, []) if user_id else []
        if user_id and len(past) != len(deployed.histories.get(user_id, [])):
            return {"context": request}   # a model saved without them: contexts unknown
        fresh = [{f: e.get(f) for f in fields} for e in _fresh(deployed, live)]
        return {"context": request, "history_context": past + fresh}

    # -- filters --------------------------------------------------------------------------
    def _filter_mask(self, catalog: ItemCatalog, flt, values, group, user_id, live,
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
            from chalicelib.filters import FilterContext
            return flt.mask(FilterContext(index, **context), values or {})
        return catalog.mask(flt, values or {}, **context)

    def _metadata_columns(self, campaign: dict, metadata_columns: dict | None,
                          group: str) -> list[str]:
        if not metadata_columns:
            return []
        if not _config(campaign).get("enableMetadataWithRecommendations"):
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

    # -- operations -----------------------------------------------------------------------
    def get_recommendations(self, ctx, campaignArn=None, itemId=None, userId=None,
                            numResults=None, context=None, filterArn=None,
                            filterValues=None, recommenderArn=None, promotions=None,
                            metadataColumns=None):
        campaign, version = self._campaign(campaignArn or recommenderArn)
        count = DEFAULT_RESULTS if numResults is None else numResults
        if count > MAX_RESULTS:
            raise InvalidInputException(f"numResults must be at most {MAX_RESULTS}.")
        recipe_type = self._recipe_type(version["recipeArn"])
        # A recommender answers for its domain use case, a campaign for its recipe.
        check_recommendation_request(campaign.get("recipeArn") or version["recipeArn"],
                                     recipe_type, userId, itemId)
        group = version["datasetGroupArn"]
        columns = self._metadata_columns(campaign, metadataColumns, group)
        flt = self.filters.resolve(filterArn, group) if filterArn else None
        promotion = (promotions or [None])[0]
        promo_filter = None
        if promotion is not None:
            if not promotion.get("filterArn"):
                raise InvalidInputException("A promotion needs a filterArn.")
            promo_filter = self.filters.resolve(promotion["filterArn"], group)
        check_filters_have_user(userId, (flt, promo_filter))

        deployed = self.models.get(version)
        needs_all_events = any(f is not None and f.uses_interactions
                               for f in (flt, promo_filter))
        live = self.live_events(deployed, group, userId, since_training=not needs_all_events)
        history = self.history(deployed, group, userId, live)
        contexts = self.context_args(deployed, userId, live, context) \
            if recipe_type == "USER_PERSONALIZATION" else {}
        catalog = self._catalog(version, deployed) if (flt or promo_filter or columns) \
            else None

        def top(n: int, mask):
            if n <= 0:
                return []
            if recipe_type == "RELATED_ITEMS":
                return deployed.model.related_items(itemId, n, mask)
            exploration = _config(campaign).get("itemExplorationConfig", {})
            return deployed.model.recommend(
                userId, history, n, mask,
                exploration_weight=float(exploration.get("explorationWeight", 0.3)),
                exploration_item_age_cut_off=float(
                    exploration.get("explorationItemAgeCutOff", 30)), **contexts)

        mask = None if flt is None else self._filter_mask(
            catalog, flt, filterValues, group, userId, live, itemId)
        if promotion is None:
            items = [{"itemId": i, "score": s} for i, s in top(count, mask)]
        else:
            promo_mask = self._filter_mask(catalog, promo_filter,
                                           promotion.get("filterValues"), group, userId,
                                           live, itemId)
            promoted = top(promos.promoted_count(count, promotion.get(
                "percentPromotedItems", 100)), promo_mask)
            regular_mask = np.ones(len(promo_mask), dtype=bool) if mask is None else mask
            for item, _ in promoted:   # an item is shown once: promoted wins
                position = catalog.position(item)
                if position is not None:
                    regular_mask[position] = False
            regular = top(count - len(promoted), regular_mask)
            items = promos.merge(regular, promoted, promotion.get("name", ""), count)
        if columns:
            for entry in items:
                entry["metadata"] = catalog.item_metadata(entry["itemId"], columns)
        return {"itemList": items, "recommendationId": recommendation_id()}

    def get_personalized_ranking(self, ctx, campaignArn, inputList, userId, context=None,
                                 filterArn=None, filterValues=None, metadataColumns=None):
        campaign, version = self._campaign(campaignArn)
        group = version["datasetGroupArn"]
        columns = self._metadata_columns(campaign, metadataColumns, group)
        limit = MAX_RANKING_INPUT_WITH_METADATA if columns else MAX_RANKING_INPUT
        if len(inputList) > limit:
            raise InvalidInputException(
                f"inputList has {len(inputList)} items; the maximum is {limit}"
                + (" when metadata is requested." if columns else "."))
        recipe_type = self._recipe_type(version["recipeArn"])
        if recipe_type != "PERSONALIZED_RANKING":
            raise InvalidInputException(
                f"GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe, "
                f"not {recipe_type}.")
        flt = self.filters.resolve(filterArn, group) if filterArn else None
        deployed = self.models.get(version)
        live = self.live_events(deployed, group, userId,
                                since_training=not (flt and flt.uses_interactions))
        history = self.history(deployed, group, userId, live)
        candidates = list(dict.fromkeys(inputList))
        if flt is not None:   # items the filter removes are left out of the ranking
            catalog = self._catalog(version, deployed)
            keep = self._filter_mask(catalog, flt, filterValues, group, userId, live,
                                     index=catalog.small_index(candidates))
            candidates = [i for i, k in zip(candidates, keep) if k]
        ranked = deployed.model.rank(
            userId, history, candidates, **self.context_args(deployed, userId, live, context)) \
            if candidates else []
        # A permutation of the input: items the model does not know go last, as AWS does.
        seen = {item for item, _ in ranked}
        ranked = list(ranked) + [(i, 0.0) for i in candidates if i not in seen]
        out = [{"itemId": i, "score": s} for i, s in ranked]
        if columns:
            catalog = self._catalog(version, deployed)
            for entry in out:
                entry["metadata"] = catalog.item_metadata(entry["itemId"], columns)
        return {"personalizedRanking": out, "recommendationId": recommendation_id()}


def _fresh(deployed: Deployed, live: list[dict]) -> list[dict]:
    """The live events with an item that the model has not been trained on."""
    return [e for e in live if e.get("ITEM_ID") and e.get("SEQ", 0) > deployed.event_seq]
