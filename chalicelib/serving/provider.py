"""personalize-runtime operations: GetRecommendations, GetPersonalizedRanking, ..."""
from __future__ import annotations

import uuid

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.resources import kinds
from chalicelib.serving.model_cache import Deployed, ModelCache

DEFAULT_RESULTS = 25
SERVING_STATUSES = ("ACTIVE", "UPDATE PENDING", "UPDATE IN_PROGRESS")


def recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


class RuntimeProvider:
    def __init__(self, backend):
        self.backend = backend
        self.registry = backend.registry
        self.models = ModelCache(backend.artifacts)

    def _campaign(self, campaign_arn: str | None) -> tuple[dict, dict]:
        if campaign_arn is None:
            raise InvalidInputException("campaignArn or recommenderArn is required.")
        campaign = self.registry.find(kinds.CAMPAIGN, campaign_arn)
        if campaign is None or campaign["status"] not in SERVING_STATUSES:
            raise ResourceNotFoundException(f"Campaign {campaign_arn} does not exist or is "
                                            "not ACTIVE.")
        version = self.registry.get(kinds.SOLUTION_VERSION, campaign["solutionVersionArn"])
        return campaign, version

    def history(self, deployed: Deployed, dataset_group_arn: str,
                user_id: str | None) -> list[str]:
        """The user's items, oldest first: training data, then events received since."""
        if not user_id:
            return []
        live = self.backend.events.user_events(dataset_group_arn, user_id,
                                               after_seq=deployed.event_seq)
        return deployed.histories.get(user_id, []) + [e["ITEM_ID"] for e in live
                                                      if e.get("ITEM_ID")]

    def get_recommendations(self, ctx, campaignArn=None, itemId=None, userId=None,
                            numResults=None, context=None, filterArn=None,
                            filterValues=None, recommenderArn=None, promotions=None,
                            metadataColumns=None):
        campaign, version = self._campaign(campaignArn or recommenderArn)
        deployed = self.models.get(version)
        count = DEFAULT_RESULTS if numResults is None else numResults
        if count > 500:
            raise InvalidInputException("numResults must be at most 500.")
        from chalicelib.training.recipes import get_recipe
        recipe_type = get_recipe(version["recipeArn"]).recipe_type
        if recipe_type == "RELATED_ITEMS":
            if not itemId:
                raise InvalidInputException(
                    "itemId is required for a campaign of a RELATED_ITEMS recipe.")
            scored = deployed.model.related_items(itemId, count)
        elif recipe_type == "USER_PERSONALIZATION":
            if not userId:
                raise InvalidInputException(
                    "userId is required for a campaign of a USER_PERSONALIZATION recipe.")
            exploration = campaign["campaignConfig"].get("itemExplorationConfig", {})
            scored = deployed.model.recommend(
                userId, self.history(deployed, version["datasetGroupArn"], userId), count,
                exploration_weight=float(exploration.get("explorationWeight", 0.3)),
                exploration_item_age_cut_off=float(
                    exploration.get("explorationItemAgeCutOff", 30)))
        else:
            raise InvalidInputException(
                f"GetRecommendations is not supported for {recipe_type} campaigns; "
                "use GetPersonalizedRanking.")
        return {"itemList": [{"itemId": item, "score": score} for item, score in scored],
                "recommendationId": recommendation_id()}

    def get_personalized_ranking(self, ctx, campaignArn, inputList, userId, context=None,
                                 filterArn=None, filterValues=None, metadataColumns=None):
        campaign, version = self._campaign(campaignArn)
        deployed = self.models.get(version)
        history = self.history(deployed, version["datasetGroupArn"], userId)
        ranked = deployed.model.rank(userId, history, list(inputList))
        return {"personalizedRanking": [{"itemId": i, "score": s} for i, s in ranked],
                "recommendationId": recommendation_id()}
