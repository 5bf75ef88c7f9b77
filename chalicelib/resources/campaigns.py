"""Campaigns: a solution version deployed for real-time recommendations."""
from __future__ import annotations

import math

from chalicelib.errors import InvalidInputException
from chalicelib.records import kinds
from chalicelib.records.registry import UPDATE_PENDING
from chalicelib.resources.base import OperationsBase, not_deleted
from chalicelib.strict_json import printable

DEFAULT_EXPLORATION = {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}
# What each itemExplorationConfig key may be: (low, high) for a finite number.
EXPLORATION_RANGES = {"explorationWeight": (0.0, 1.0),
                      "explorationItemAgeCutOff": (0.0, math.inf)}


def campaign_config(config: dict | None, recipe_arn: str) -> dict:
    """AWS checks itemExplorationConfig (campaigns, recommenders, batch inference jobs):
    only its two keys, each a finite number in range; User-Personalization campaigns get
    the defaults filled in. Anything else is refused, never stored or echoed."""
    config = dict(config or {})
    given = config.get("itemExplorationConfig")
    if given is not None:
        check_exploration(given)
    if "user-personalization" in recipe_arn:
        config["itemExplorationConfig"] = {**DEFAULT_EXPLORATION, **(given or {})}
    config.setdefault("enableMetadataWithRecommendations", False)
    return config


def check_exploration(exploration: dict) -> None:
    unknown = sorted(set(exploration) - set(EXPLORATION_RANGES))
    if unknown:
        raise InvalidInputException(
            f"Invalid itemExplorationConfig: {', '.join(map(repr, unknown))} "
            f"{'is not a key' if len(unknown) == 1 else 'are not keys'} it accepts; the "
            f"keys are {' and '.join(EXPLORATION_RANGES)}.")
    for key, (low, high) in EXPLORATION_RANGES.items():
        if key in exploration:
            _number(exploration, key, low, high)


def _number(config: dict, key: str, low: float, high: float) -> None:
    text = config[key]
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    bounds = f"from {low:g} to {high:g}" if math.isfinite(high) else f"of at least {low:g}"
    if not (math.isfinite(value) and low <= value <= high) or "_" in str(text):
        raise InvalidInputException(
            f"Invalid itemExplorationConfig {key} {printable(str(text))!r}: it must be a "
            f"finite number {bounds}.")


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
        where = not_deleted if prefix is None else (
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
