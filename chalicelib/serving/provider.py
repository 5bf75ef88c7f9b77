"""personalize-runtime operations: GetRecommendations, GetPersonalizedRanking.

Each request: find the campaign (or recommender) it names and the solution version behind
it (one store read each), check the API's limits and what the recipe can answer, and hand
the rest to the serving engine (chalicelib/serving/engine.py), whose answer becomes the
response shape.
"""
from __future__ import annotations

import uuid

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.records import kinds
from chalicelib.records.lifecycle import (ACTIVE, UPDATE_IN_PROGRESS, UPDATE_PENDING,
                                          not_deleted)
from chalicelib.records.versions import synced_recommender
from chalicelib.serving.actions import ActionRecommendationOperations
from chalicelib.serving.engine import ServingEngine, check_ranking_input
from chalicelib.serving.requirements import check_recommendation_request

DEFAULT_RESULTS = 25
MAX_RESULTS = 500
SERVING_STATUSES = (ACTIVE, UPDATE_PENDING, UPDATE_IN_PROGRESS)


def recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


def served_config(campaign: dict) -> dict:
    """campaignConfig, or recommenderConfig when a recommender is served."""
    return campaign.get("campaignConfig") or campaign.get("recommenderConfig") or {}


class RuntimeProvider(ActionRecommendationOperations):
    def __init__(self, backend):
        self.backend = backend
        self.registry = backend.registry
        self.engine = ServingEngine(backend)

    # -- what is being served ---------------------------------------------------------------
    def _campaign(self, campaign_arn: str | None) -> tuple[dict, dict]:
        if campaign_arn is None:
            raise InvalidInputException("campaignArn or recommenderArn is required.")
        if campaign_arn.split(":")[-1].startswith("recommender/"):
            return self._recommender(campaign_arn)
        campaign = self.registry.find(kinds.CAMPAIGN, campaign_arn)
        if campaign is None or campaign["status"] not in SERVING_STATUSES:
            raise ResourceNotFoundException(f"Campaign {campaign_arn} does not exist or is "
                                            "not ACTIVE.")
        version = self.registry.get(kinds.SOLUTION_VERSION, campaign["solutionVersionArn"])
        return campaign, version

    def _recommender(self, recommender_arn: str) -> tuple[dict, dict]:
        """An ACTIVE recommender and its model's solution version."""
        doc = synced_recommender(self.registry,
                                 self.registry.find(kinds.RECOMMENDER, recommender_arn))
        if doc is None or not not_deleted(doc):
            raise ResourceNotFoundException(f"Recommender {recommender_arn} does not exist.")
        if doc["status"] not in SERVING_STATUSES:
            raise InvalidInputException(
                f"Recommender {recommender_arn} is {doc['status']}; it must be ACTIVE.")
        return doc, self.registry.get(kinds.SOLUTION_VERSION, doc["_solutionVersionArn"])

    def _recipe_type(self, recipe_arn: str) -> str:
        return self.engine.recipe_type(recipe_arn)

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
        config = served_config(campaign)
        columns = self.engine.metadata_columns(config, metadataColumns,
                                               version["datasetGroupArn"])
        items = self.engine.recommend(
            version, config, count, user_id=userId, item_id=itemId, filter_arn=filterArn,
            filter_values=filterValues, promotion=(promotions or [None])[0], columns=columns,
            context=context)
        return {"itemList": items, "recommendationId": recommendation_id()}

    def get_personalized_ranking(self, ctx, campaignArn, inputList, userId, context=None,
                                 filterArn=None, filterValues=None, metadataColumns=None):
        campaign, version = self._campaign(campaignArn)
        columns = self.engine.metadata_columns(served_config(campaign), metadataColumns,
                                               version["datasetGroupArn"])
        check_ranking_input(inputList, columns)
        recipe_type = self._recipe_type(version["recipeArn"])
        if recipe_type != "PERSONALIZED_RANKING":
            raise InvalidInputException(
                f"GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe, "
                f"not {recipe_type}.")
        ranked = self.engine.rank(version, userId, inputList, filter_arn=filterArn,
                                  filter_values=filterValues, columns=columns,
                                  context=context)
        return {"personalizedRanking": ranked, "recommendationId": recommendation_id()}
