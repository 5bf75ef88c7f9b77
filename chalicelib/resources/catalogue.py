"""The recipe catalogue AWS returns (ListRecipes, DescribeRecipe, DescribeAlgorithm, ...)."""
from __future__ import annotations

import datetime as dt

from chalicelib.errors import ResourceNotFoundException

_CREATED = dt.datetime(2019, 6, 10, tzinfo=dt.timezone.utc).timestamp()

# name -> (recipe type, domain, description, default hyperparameters)
_RECIPES = {
    "aws-user-personalization": ("USER_PERSONALIZATION", None,
        "Predicts items a user will interact with, with exploration of new items.",
        {"hidden_dimension": "149", "bptt": "32", "recency_mask": "true",
         "min_user_history_length_percentile": "0.0",
         "max_user_history_length_percentile": "0.99"}),
    "aws-user-personalization-v2": ("USER_PERSONALIZATION", None,
        "Transformer-based user personalization for large catalogues.", {}),
    "aws-personalized-ranking": ("PERSONALIZED_RANKING", None,
        "Ranks a list of items for a user.",
        {"hidden_dimension": "149", "bptt": "32", "recency_mask": "true"}),
    "aws-personalized-ranking-v2": ("PERSONALIZED_RANKING", None,
        "Transformer-based personalized ranking.", {}),
    "aws-popularity-count": ("USER_PERSONALIZATION", None,
        "Recommends the most popular items.", {}),
    "aws-trending-now": ("USER_PERSONALIZATION", None,
        "Recommends items gaining popularity fastest.", {"trend_discovery_frequency": "2"}),
    "aws-similar-items": ("RELATED_ITEMS", None,
        "Items similar to a given item, from co-occurrence and metadata.", {}),
    "aws-sims": ("RELATED_ITEMS", None,
        "Items similar to a given item, from item co-occurrence.",
        {"popularity_discount_factor": "0.5", "min_cointeraction_count": "3"}),
    "aws-item-affinity": ("USER_SEGMENTATION", None,
        "Users most likely to interact with each item.", {}),
    "aws-item-attribute-affinity": ("USER_SEGMENTATION", None,
        "Users most likely to interact with items with an attribute.", {}),
    "aws-next-best-action": ("PERSONALIZED_ACTIONS", None,
        "The next best actions for a user.", {}),
}


def _recipe_arn(name):
    return f"arn:aws:personalize:::recipe/{name}"


def _name(arn: str, kind: str) -> str:
    prefix = f"arn:aws:personalize:::{kind}/"
    name = arn[len(prefix):] if arn.startswith(prefix) else None
    if name not in _RECIPES:
        raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
    return name


def list_recipes(recipe_provider="SERVICE", domain=None):
    return [{"name": n, "recipeArn": _recipe_arn(n), "status": "ACTIVE",
             "creationDateTime": _CREATED, "lastUpdatedDateTime": _CREATED, "domain": d}
            for n, (_, d, _, _) in sorted(_RECIPES.items()) if domain in (None, d)]


def describe_recipe(arn):
    name = _name(arn, "recipe")
    recipe_type, domain, description, _ = _RECIPES[name]
    return {"name": name, "recipeArn": arn, "recipeType": recipe_type,
            "algorithmArn": f"arn:aws:personalize:::algorithm/{name}",
            "featureTransformationArn":
                f"arn:aws:personalize:::feature-transformation/{name}",
            "description": description, "status": "ACTIVE",
            "creationDateTime": _CREATED, "lastUpdatedDateTime": _CREATED}


def describe_algorithm(arn):
    name = _name(arn, "algorithm")
    return {"name": name, "algorithmArn": arn,
            "defaultHyperParameters": default_hyperparameters(_recipe_arn(name)),
            "trainingInputMode": "File",
            "creationDateTime": _CREATED, "lastUpdatedDateTime": _CREATED}


def describe_feature_transformation(arn):
    name = _name(arn, "feature-transformation")
    return {"name": name, "featureTransformationArn": arn, "status": "ACTIVE",
            "defaultParameters": {}, "creationDateTime": _CREATED,
            "lastUpdatedDateTime": _CREATED}


def default_hyperparameters(recipe_arn):
    return dict(_RECIPES.get(recipe_arn.rsplit("/", 1)[-1], (None, None, None, {}))[3])
