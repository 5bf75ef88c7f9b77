"""Recommenders: domain dataset groups' ready-made use cases.

Each domain recipe maps to one of our recipes; a recommender owns a hidden solution version
(trained by the ordinary training task) and is served by GetRecommendations with
recommenderArn. Statuses are derived when a record is read (as the registry settles
others): the create follows its model's training, Start/Stop settle after a moment
(chalicelib/records/versions.py, chalicelib/records/lifecycle.py).
"""
from __future__ import annotations

import uuid

from chalicelib.errors import InvalidInputException, ResourceInUseException
from chalicelib.records import kinds
from chalicelib.records.lifecycle import (ACTIVE, INACTIVE, RECOMMENDER_START_STOP,
                                          START_PENDING, STOP_PENDING, UPDATE_PENDING)
from chalicelib.records.versions import RUNNING, synced_recommender
from chalicelib.resources.base import OperationsBase
from chalicelib.resources.campaigns import campaign_config

RECIPE_PREFIX = "arn:aws:personalize:::recipe/"
# domain recipe -> (domain, our recipe, the event type it learns from, None = all)
DOMAIN_RECIPES = {
    "aws-ecomm-customers-who-viewed-x-also-viewed": ("ECOMMERCE", "aws-sims", "View"),
    "aws-ecomm-frequently-bought-together": ("ECOMMERCE", "aws-sims", "Purchase"),
    "aws-ecomm-popular-items-by-purchases": ("ECOMMERCE", "aws-popularity-count",
                                             "Purchase"),
    "aws-ecomm-popular-items-by-views": ("ECOMMERCE", "aws-popularity-count", "View"),
    "aws-ecomm-recommended-for-you": ("ECOMMERCE", "aws-user-personalization", None),
    "aws-vod-because-you-watched-x": ("VIDEO_ON_DEMAND", "aws-sims", None),
    "aws-vod-more-like-x": ("VIDEO_ON_DEMAND", "aws-similar-items", None),
    "aws-vod-most-popular": ("VIDEO_ON_DEMAND", "aws-popularity-count", None),
    "aws-vod-trending-now": ("VIDEO_ON_DEMAND", "aws-trending-now", None),
    "aws-vod-top-picks": ("VIDEO_ON_DEMAND", "aws-user-personalization", None),
}


def domain_recipe(recipe_arn: str) -> tuple[str, str, str | None]:
    name = recipe_arn[len(RECIPE_PREFIX):] if recipe_arn.startswith(RECIPE_PREFIX) else ""
    if name not in DOMAIN_RECIPES:
        raise InvalidInputException(
            f"{recipe_arn} is not a domain recipe. Recommenders use one of: "
            + ", ".join(RECIPE_PREFIX + n for n in sorted(DOMAIN_RECIPES)) + ".")
    return DOMAIN_RECIPES[name]


def recommender_config(config: dict | None, base_recipe_arn: str) -> dict:
    config = campaign_config(config, base_recipe_arn)
    config.setdefault("minRecommendationRequestsPerSecond", 1)
    return config


class RecommenderOperations(OperationsBase):
    def create_recommender(self, ctx, name, datasetGroupArn, recipeArn,
                           recommenderConfig=None, tags=None):
        group = self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        domain, base_recipe, event_type = domain_recipe(recipeArn)
        if group.get("domain") != domain:
            raise InvalidInputException(
                f"Recipe {recipeArn} needs a {domain} domain dataset group; "
                f"{datasetGroupArn} is " + (f"a {group['domain']} one."
                                            if group.get("domain") else "a custom one."))
        base_arn = RECIPE_PREFIX + base_recipe
        config = recommender_config(recommenderConfig, base_arn)
        version_id = uuid.uuid4().hex[:8]
        hidden_arn = f"{ctx.arn_prefix}:solution/recommender-{name}/{version_id}"
        doc = self.registry.create(
            kinds.RECOMMENDER, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "recipeArn": recipeArn,
             "recommenderConfig": config, "_solutionVersionArn": hidden_arn},
            tags=tags)
        hyperparameters = {"event_type": event_type} if event_type else {}
        self.registry.create(
            kinds.SOLUTION_VERSION, ctx.arn_prefix, version_id,
            {"solutionArn": doc["recommenderArn"], "recipeArn": base_arn,
             "datasetGroupArn": datasetGroupArn, "eventType": event_type,
             "performHPO": False, "performAutoML": False, "trainingMode": "FULL",
             "trainingType": "MANUAL", "_recommender": doc["recommenderArn"],
             "solutionConfig": {"algorithmHyperParameters": hyperparameters}},
            arn_name=f"recommender-{name}/{version_id}")
        self.backend.tasks.start_training(hidden_arn)
        return {"recommenderArn": doc["recommenderArn"]}

    def _recommender(self, arn: str) -> dict:
        return synced_recommender(self.registry, self.registry.get(kinds.RECOMMENDER, arn))

    def describe_recommender(self, ctx, recommenderArn):
        return {"recommender": self._recommender(recommenderArn)}

    def list_recommenders(self, ctx, datasetGroupArn=None, nextToken=None, maxResults=None):
        result = self._list_in(kinds.RECOMMENDER, ctx, "recommenders", nextToken, maxResults,
                               "datasetGroupArn", datasetGroupArn, skip_deleted=True)
        result["recommenders"] = [synced_recommender(self.registry, d)
                                  for d in result["recommenders"]]
        return result

    def _move(self, arn: str, allowed: str, status: str) -> None:
        doc = self._recommender(arn)
        if doc["status"] != allowed:
            raise ResourceInUseException(
                f"Recommender {arn} is {doc['status']}; it must be {allowed}.")

        self.registry.update(kinds.RECOMMENDER, arn, lambda current: self.registry.begin(
            current, RECOMMENDER_START_STOP, status))

    def stop_recommender(self, ctx, recommenderArn):
        self._move(recommenderArn, ACTIVE, STOP_PENDING)
        return {"recommenderArn": recommenderArn}

    def start_recommender(self, ctx, recommenderArn):
        self._move(recommenderArn, INACTIVE, START_PENDING)
        return {"recommenderArn": recommenderArn}

    def update_recommender(self, ctx, recommenderArn, recommenderConfig):
        doc = self._recommender(recommenderArn)
        if doc["status"] != ACTIVE:
            raise ResourceInUseException(
                f"Recommender {recommenderArn} is {doc['status']}; it must be ACTIVE.")
        _, base_recipe, _ = domain_recipe(doc["recipeArn"])
        config = recommender_config({**doc["recommenderConfig"], **recommenderConfig},
                                    RECIPE_PREFIX + base_recipe)

        def apply(current):
            current["recommenderConfig"] = config
            self.registry.settle_later(current, UPDATE_PENDING)
            current["latestRecommenderUpdate"] = {
                "recommenderConfig": config, "status": ACTIVE,
                "creationDateTime": ctx.received_at, "lastUpdatedDateTime": ctx.received_at}
        self.registry.update(kinds.RECOMMENDER, recommenderArn, apply)
        return {"recommenderArn": recommenderArn}

    def delete_recommender(self, ctx, recommenderArn):
        doc = self.registry.get(kinds.RECOMMENDER, recommenderArn)
        hidden = doc["_solutionVersionArn"]
        version = self.registry.find(kinds.SOLUTION_VERSION, hidden)
        if version is not None and version["status"] in RUNNING:
            self.backend.tasks.stop_training(hidden)
        self.registry.delete(kinds.RECOMMENDER, recommenderArn)
        if version is not None:
            self.registry.delete(kinds.SOLUTION_VERSION, hidden)
