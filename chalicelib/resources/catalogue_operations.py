"""Recipes, algorithms and feature transformations: AWS's read-only catalogue."""
from __future__ import annotations

from chalicelib.records import recipe_catalogue as catalogue
from chalicelib.resources.base import OperationsBase
from chalicelib.records.pagination import page


class CatalogueOperations(OperationsBase):
    def list_recipes(self, ctx, recipeProvider=None, nextToken=None, maxResults=None,
                     domain=None):
        recipes = catalogue.list_recipes(recipeProvider or "SERVICE", domain)
        chunk, token = page(recipes, nextToken, maxResults)
        return {"recipes": chunk, "nextToken": token}

    def describe_recipe(self, ctx, recipeArn):
        return {"recipe": catalogue.describe_recipe(recipeArn)}

    def describe_algorithm(self, ctx, algorithmArn):
        return {"algorithm": catalogue.describe_algorithm(algorithmArn)}

    def describe_feature_transformation(self, ctx, featureTransformationArn):
        return {"featureTransformation":
                catalogue.describe_feature_transformation(featureTransformationArn)}
