"""The predefined catalogue AWS returns: ListRecipes, DescribeRecipe, DescribeAlgorithm and
DescribeFeatureTransformation, plus the defaults the trainer starts from.

The data lives in recipe_catalogue.json (recipes -> algorithm + feature transformation); this
module only shapes it into botocore's output shapes (RecipeSummary, Recipe, Algorithm,
FeatureTransformation), with timestamps as timezone-aware UTC datetimes.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
from functools import lru_cache

from chalicelib.errors import ResourceNotFoundException

RECIPE_PREFIX = "arn:aws:personalize:::recipe/"
ALGORITHM_PREFIX = "arn:aws:personalize:::algorithm/"
FEATURE_TRANSFORMATION_PREFIX = "arn:aws:personalize:::feature-transformation/"
DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recipe_catalogue.json")
ACTIVE = "ACTIVE"


@lru_cache(maxsize=1)
def _data() -> dict:
    with open(DATA_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def _date(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


# "Legacy HRNN recipes are no longer available" (AWS developer guide, Legacy HRNN recipes):
# ListRecipes leaves them out, and DescribeRecipe and CreateSolution find no such recipe.
LEGACY_RECIPES = ("aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart")


def _not_found(arn) -> ResourceNotFoundException:
    message = f"Resource Arn {arn} does not exist."
    if isinstance(arn, str) and arn.startswith(RECIPE_PREFIX) \
            and arn[len(RECIPE_PREFIX):] in LEGACY_RECIPES:
        message += (" Legacy HRNN recipes are no longer available; use "
                    f"{RECIPE_PREFIX}aws-user-personalization, which replaces them.")
    return ResourceNotFoundException(message)


def _lookup(arn, prefix: str, table: str) -> tuple[str, dict]:
    name = arn[len(prefix):] if isinstance(arn, str) and arn.startswith(prefix) else None
    entry = _data()[table].get(name) if name else None
    if entry is None:
        raise _not_found(arn)
    return name, entry


def recipe_arn(name: str) -> str:
    return RECIPE_PREFIX + name


def algorithm_arn(name: str) -> str:
    return ALGORITHM_PREFIX + name


def feature_transformation_arn(name: str) -> str:
    return FEATURE_TRANSFORMATION_PREFIX + name


def recipe_names() -> list[str]:
    """Every predefined recipe's name, sorted."""
    return sorted(_data()["recipes"])


# -- the four operations ----------------------------------------------------------------------

def list_recipes(recipe_provider: str | None = "SERVICE", domain: str | None = None) -> list[dict]:
    """RecipeSummary dicts sorted by name; `domain` keeps only that domain's use cases.

    'SERVICE' (or None, its default) is the only provider; the wire layer rejects any other
    value against the model's enum, and here any other value lists nothing."""
    if recipe_provider not in (None, "SERVICE"):
        return []
    summaries = []
    for name in recipe_names():
        entry = _data()["recipes"][name]
        if domain is not None and entry.get("domain") != domain:
            continue
        created = _date(entry["created"])
        summary = {"name": name, "recipeArn": recipe_arn(name), "status": ACTIVE,
                   "creationDateTime": created, "lastUpdatedDateTime": created}
        if entry.get("domain"):
            summary["domain"] = entry["domain"]
        summaries.append(summary)
    return summaries


def describe_recipe(arn: str) -> dict:
    """The Recipe shape; unknown ARN -> ResourceNotFoundException."""
    name, entry = _lookup(arn, RECIPE_PREFIX, "recipes")
    created = _date(entry["created"])
    return {"name": name, "recipeArn": recipe_arn(name),
            "algorithmArn": algorithm_arn(entry["algorithm"]),
            "featureTransformationArn": feature_transformation_arn(entry["featureTransformation"]),
            "status": ACTIVE, "description": entry["description"],
            "creationDateTime": created, "recipeType": entry["recipeType"],
            "lastUpdatedDateTime": created}


def describe_algorithm(arn: str) -> dict:
    """The Algorithm shape; unknown ARN -> ResourceNotFoundException."""
    name, entry = _lookup(arn, ALGORITHM_PREFIX, "algorithms")
    created = _date(entry["created"])
    return {"name": name, "algorithmArn": algorithm_arn(name),
            "algorithmImage": {"name": name},
            "defaultHyperParameters": dict(entry["defaultHyperParameters"]),
            "defaultHyperParameterRanges": copy.deepcopy(entry["defaultHyperParameterRanges"]),
            "defaultResourceConfig": dict(_data()["defaultResourceConfig"]),
            "trainingInputMode": _data()["trainingInputMode"],
            "creationDateTime": created, "lastUpdatedDateTime": created}


def describe_feature_transformation(arn: str) -> dict:
    """The FeatureTransformation shape; unknown ARN -> ResourceNotFoundException."""
    name, entry = _lookup(arn, FEATURE_TRANSFORMATION_PREFIX, "featureTransformations")
    created = _date(entry["created"])
    return {"name": name, "featureTransformationArn": feature_transformation_arn(name),
            "defaultParameters": dict(entry["defaultParameters"]),
            "creationDateTime": created, "lastUpdatedDateTime": created, "status": ACTIVE}


# -- helpers for the rest of the service ------------------------------------------------------

def _recipe_entry(arn: str) -> dict:
    return _lookup(arn, RECIPE_PREFIX, "recipes")[1]


def default_hyperparameters(recipe_arn: str) -> dict[str, str]:
    """The recipe's algorithm hyperparameters merged with its featurization parameters, as
    strings: what training starts from before solutionConfig overrides them. An unknown
    recipe has none (creating its solution is refused elsewhere)."""
    try:
        entry = _recipe_entry(recipe_arn)
    except ResourceNotFoundException:
        return {}
    data = _data()
    values = dict(data["featureTransformations"][entry["featureTransformation"]]
                  ["defaultParameters"])
    values.update(data["algorithms"][entry["algorithm"]]["defaultHyperParameters"])
    return values


def recipe_ranges(recipe_arn: str) -> dict:
    """The recipe's algorithm's defaultHyperParameterRanges ({} for an unknown recipe)."""
    try:
        entry = _recipe_entry(recipe_arn)
    except ResourceNotFoundException:
        return {}
    return copy.deepcopy(_data()["algorithms"][entry["algorithm"]]
                         ["defaultHyperParameterRanges"])


def recipe_type(recipe_arn: str) -> str:
    """'USER_PERSONALIZATION', 'RELATED_ITEMS', ...; unknown -> ResourceNotFoundException."""
    return _recipe_entry(recipe_arn)["recipeType"]


def recipe_domain(recipe_arn: str) -> str | None:
    """'ECOMMERCE' / 'VIDEO_ON_DEMAND' for a domain use case, None for a custom recipe;
    unknown -> ResourceNotFoundException."""
    return _recipe_entry(recipe_arn).get("domain")


def is_domain_recipe(arn: str) -> bool:
    """Whether `arn` names a domain use case (aws-ecomm-*, aws-vod-*); False if unknown."""
    try:
        return recipe_domain(arn) is not None
    except ResourceNotFoundException:
        return False
