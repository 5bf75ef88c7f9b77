"""Recipe registry: recipe name -> the module that implements it.

Each module defines `RECIPE`, a Recipe instance whose `model_class` loads saved models.
Imported lazily so that serving a popularity model never imports the GRU code.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from chalicelib.training.recipes.base import Model, Recipe

_MODULES = {
    "aws-user-personalization": "user_personalization",
    "aws-user-personalization-v2": "user_personalization",
    "aws-popularity-count": "popularity",
    "aws-trending-now": "trending",
    "aws-similar-items": "similar_items",
    "aws-sims": "similar_items",
    "aws-personalized-ranking": "personalized_ranking",
    "aws-personalized-ranking-v2": "personalized_ranking",
    # USER_SEGMENTATION: users per item come from the GRU's user-item scores
    # (chalicelib/batch/inference.py turns them into segments).
    "aws-item-affinity": "user_personalization",
    "aws-item-attribute-affinity": "user_personalization",
}

META_FILE = "model.json"


def recipe_name(recipe_arn: str) -> str:
    return recipe_arn.rsplit("/", 1)[-1]


def get_recipe(recipe_arn: str) -> Recipe:
    """The Recipe for an ARN (or bare name); KeyError when we do not implement it."""
    name = recipe_name(recipe_arn)
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    recipe = getattr(module, "RECIPES", {}).get(name, module.RECIPE)
    if recipe.name != name:  # one module may serve a v1 and a v2 name
        recipe = recipe.variant(name)
    return recipe


def implemented_recipes() -> list[str]:
    return sorted(_MODULES)


def save_model(model: Model, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory)
    (directory / META_FILE).write_text(json.dumps({"recipe": model.recipe_name}))


def load_model(directory: Path) -> Model:
    meta = json.loads((Path(directory) / META_FILE).read_text())
    return get_recipe(meta["recipe"]).model_class.load(Path(directory))
