"""CreateSolution's solutionConfig.optimizationObjective, checked against AWS's documented
requirements (developer guide, "Optimizing a solution for an additional objective"):
the recipe is User-Personalization or Personalized-Ranking, and itemAttribute names one
numerical column of the dataset group's Items dataset that is not nullable. What training
does with it: chalicelib/models/objective.py."""
from __future__ import annotations

import json

from chalicelib.datasets.reader import group_datasets
from chalicelib.errors import InvalidInputException
from chalicelib.models import recipe_name
from chalicelib.records import kinds
from chalicelib.models.objective import OBJECTIVE_RECIPES

_NUMERIC = {"int", "long", "float", "double"}


def check_optimization_objective(registry, dataset_group_arn: str, recipe_arn: str,
                                 solution_config: dict | None) -> None:
    objective = (solution_config or {}).get("optimizationObjective")
    if not objective:
        return
    attribute = objective.get("itemAttribute")
    if not attribute:
        raise InvalidInputException(
            "solutionConfig.optimizationObjective needs an itemAttribute: a numerical "
            "column of the Items dataset.")
    if recipe_name(recipe_arn) not in OBJECTIVE_RECIPES:
        raise InvalidInputException(
            f"An optimizationObjective needs a User-Personalization or Personalized-Ranking "
            f"recipe, not {recipe_name(recipe_arn)}.")
    items = group_datasets(registry, dataset_group_arn).get("Items")
    schema = registry.find(kinds.SCHEMA, items["schemaArn"]) if items else None
    if schema is None:
        raise InvalidInputException(
            f"The optimizationObjective itemAttribute {attribute} must be a column of the "
            f"Items dataset, and dataset group {dataset_group_arn} has no Items dataset.")
    field = _field(schema["schema"], attribute)
    if field is None:
        raise InvalidInputException(
            f"The optimizationObjective itemAttribute {attribute} is not a column of the "
            f"Items dataset schema.")
    types = field.get("type")
    types = set(types if isinstance(types, list) else [types])
    if not types - {"null"} or not (types - {"null"}) <= _NUMERIC:
        raise InvalidInputException(
            f"The optimizationObjective itemAttribute {attribute} must be a numerical column "
            f"(int, long, float or double) of the Items dataset schema.")
    if "null" in types:
        raise InvalidInputException(
            f"The optimizationObjective itemAttribute {attribute} cannot have a null type in "
            f"the Items dataset schema.")


def _field(schema_text: str, attribute: str) -> dict | None:
    try:
        fields = json.loads(schema_text).get("fields", [])
    except (ValueError, AttributeError):
        return None
    wanted = attribute.upper()
    return next((f for f in fields if str(f.get("name", "")).upper() == wanted), None)
