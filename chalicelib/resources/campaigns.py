"""Campaigns: a solution version deployed for real-time recommendations."""
from __future__ import annotations

from chalicelib.errors import InvalidInputException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase, not_deleted
from chalicelib.records.registry import UPDATE_PENDING

DEFAULT_EXPLORATION = {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}


def campaign_config(config: dict | None, recipe_arn: str) -> dict:
    """AWS fills itemExplorationConfig for User-Personalization campaigns and checks it."""
    config = dict(config or {})
    if "user-personalization" in recipe_arn:
        exploration = {**DEFAULT_EXPLORATION, **config.get("itemExplorationConfig", {})}
        _number(exploration, "explorationWeight", 0.0, 1.0)
        _number(exploration, "explorationItemAgeCutOff", 0.0, float("inf"))
        config["itemExplorationConfig"] = exploration
    config.setdefault("enableMetadataWithRecommendations", False)
    return config


def _number(config: dict, key: str, low: float, high: float) -> None:
    try:
        value = float(config[key])
    except (TypeError, ValueError):
        raise InvalidInputException(f"{key} must be a number, got {config[key]!r}.") from None
    if not low <= value <= high:
        raise InvalidInputException(f"{key} must be between {low} and {high}, got {value}.")


class CampaignOperations(OperationsBase):
    def create_campaign(self, ctx, name, solutionVersionArn, minProvisionedTPS=None,
                        campaignConfig=None, tags=None):
        version = self.registry.get_active(kinds.SOLUTION_VERSION, solutionVersionArn)
        doc = self.registry.create(
            kinds.CAMPAIGN, ctx.arn_prefix, name,
            {"solutionVersionArn": solutionVersionArn,
             "minProvisionedTPS": minProvisionedTPS or 1,
             "campaignConfig": campaign_config(campaignConfig, version["recipeArn"]),
             "datasetGroupArn": version["datasetGroupArn"]}, tags=tags)
        return {"campaignArn": doc["campaignArn"]}

    def describe_campaign(self, ctx, campaignArn):
        return {"campaign": self.registry.get(kinds.CAMPAIGN, campaignArn)}

    def list_campaigns(self, ctx, solutionArn=None, nextToken=None, maxResults=None):
        prefix = f"{solutionArn}/" if solutionArn else None
        where = live if prefix is None else (
            lambda d: d["solutionVersionArn"].startswith(prefix) and not_deleted(d))
        return self._list(kinds.CAMPAIGN, ctx, "campaigns", nextToken, maxResults, where)

    def update_campaign(self, ctx, campaignArn, solutionVersionArn=None,
                        minProvisionedTPS=None, campaignConfig=None):
        current = self.registry.get_active(kinds.CAMPAIGN, campaignArn)
        version_arn = solutionVersionArn or current["solutionVersionArn"]
        version = self.registry.get_active(kinds.SOLUTION_VERSION, version_arn)
        config = campaign_config(campaignConfig if campaignConfig is not None
                                 else current["campaignConfig"], version["recipeArn"])

        def apply(doc):
            doc.update(solutionVersionArn=version_arn, campaignConfig=config,
                       minProvisionedTPS=minProvisionedTPS or doc["minProvisionedTPS"])
            self.registry.settle_later(doc, UPDATE_PENDING)
            doc["latestCampaignUpdate"] = {
                "solutionVersionArn": version_arn, "minProvisionedTPS":
                doc["minProvisionedTPS"], "campaignConfig": config, "status": "ACTIVE",
                "creationDateTime": ctx.received_at, "lastUpdatedDateTime": ctx.received_at}
        self.registry.update(kinds.CAMPAIGN, campaignArn, apply)
        return {"campaignArn": campaignArn}

    def delete_campaign(self, ctx, campaignArn):
        self.registry.get(kinds.CAMPAIGN, campaignArn)
        self.registry.delete(kinds.CAMPAIGN, campaignArn)
