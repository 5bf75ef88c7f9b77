"""The predefined catalogue: every dict returned must be a valid botocore output shape."""
from __future__ import annotations

import datetime as dt
import re

import botocore.session
import pytest

from chalicelib.errors import ResourceNotFoundException
from chalicelib.records import recipe_catalogue as catalogue

MODEL = botocore.session.get_session().get_service_model("personalize")

DOCUMENTED = {  # name -> (recipe type, algorithm, feature transformation or None)
    "aws-user-personalization": ("USER_PERSONALIZATION", "aws-user-personalization", None),
    "aws-user-personalization-v2": (None, "aws-user-personalization-v2", None),
    "aws-personalized-ranking": ("PERSONALIZED_RANKING", "aws-personalized-ranking",
                                 "JSON-percentile-filtering"),
    "aws-personalized-ranking-v2": (None, "aws-personalized-ranking-v2", None),
    "aws-popularity-count": ("USER_PERSONALIZATION", "aws-popularity-count", "sims"),
    "aws-trending-now": (None, "aws-trending-now-custom", None),
    "aws-similar-items": ("RELATED_ITEMS", "aws-similar-items", None),
    "aws-sims": ("RELATED_ITEMS", "aws-sims", "sims"),
    "aws-semantic-similarity": ("RELATED_ITEMS", "aws-semantic-similarity",
                                "aws-semantic-similarity"),
    "aws-item-affinity": ("USER_SEGMENTATION", "aws-item-affinity", "item-affinity"),
    "aws-item-attribute-affinity": ("USER_SEGMENTATION", "aws-item-attribute-affinity",
                                    "item-attribute-affinity"),
    "aws-next-best-action": (None, "aws-next-best-action", None),
}
DOMAINS = {
    "ECOMMERCE": {"aws-ecomm-customers-who-viewed-x-also-viewed",
                  "aws-ecomm-frequently-bought-together", "aws-ecomm-popular-items-by-purchases",
                  "aws-ecomm-popular-items-by-views", "aws-ecomm-recommended-for-you"},
    "VIDEO_ON_DEMAND": {"aws-vod-because-you-watched-x", "aws-vod-more-like-x",
                        "aws-vod-most-popular", "aws-vod-trending-now", "aws-vod-top-picks"},
}
RECIPE_TYPES = {"USER_PERSONALIZATION", "PERSONALIZED_RANKING", "RELATED_ITEMS",
                "USER_SEGMENTATION", "PERSONALIZED_ACTIONS"}


def check_shape(value, shape, path="$"):
    """Assert `value` is what botocore would parse for `shape` (types, enums, limits)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: {sorted(unknown)} not in {shape.name}"
        for key, member in value.items():
            assert member is not None, f"{path}.{key} is None"
            check_shape(member, shape.members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        if "max" in shape.metadata:
            assert len(value) <= shape.metadata["max"], path
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        if "max" in shape.metadata:
            assert len(value) <= shape.metadata["max"], path
        for key, item in value.items():
            check_shape(key, shape.key, f"{path}<key>")
            check_shape(item, shape.value, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: {value!r} is not a string"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
        meta = shape.metadata
        assert meta.get("min", 0) <= len(value) <= meta.get("max", 10 ** 9), path
        if "pattern" in meta:
            assert re.match(meta["pattern"], value), f"{path}: {value!r} !~ {meta['pattern']}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
        assert shape.metadata.get("min", -10 ** 18) <= value <= shape.metadata.get("max", 10 ** 18)
    elif kind in ("double", "float"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), path
        assert shape.metadata.get("min", -1e300) <= value, path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, dt.datetime), path
        assert value.utcoffset() == dt.timedelta(0), f"{path}: not UTC"
    else:  # pragma: no cover
        raise AssertionError(f"{path}: unhandled shape type {kind}")


def output_member(operation, member):
    return MODEL.operation_model(operation).output_shape.members[member]


def all_recipes():
    return catalogue.list_recipes()


# -- ListRecipes ------------------------------------------------------------------------------

def test_list_recipes_shape_and_sorted():
    recipes = all_recipes()
    check_shape(recipes, output_member("ListRecipes", "recipes"))
    names = [r["name"] for r in recipes]
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert all(r["status"] == "ACTIVE" for r in recipes)
    assert all(r["recipeArn"] == "arn:aws:personalize:::recipe/" + r["name"] for r in recipes)


def test_list_recipes_contains_documented_and_domain_recipes():
    names = {r["name"] for r in all_recipes()}
    assert set(DOCUMENTED) <= names
    for members in DOMAINS.values():
        assert members <= names
    assert not any(n.startswith("aws-hrnn") for n in names)  # legacy: no longer available


def test_list_recipes_domain_filter():
    for domain, members in DOMAINS.items():
        listed = catalogue.list_recipes("SERVICE", domain)
        assert {r["name"] for r in listed} == members
        assert all(r["domain"] == domain for r in listed)
    custom = [r for r in all_recipes() if "domain" not in r]
    assert {r["name"] for r in custom} >= set(DOCUMENTED)
    assert catalogue.list_recipes(None) == all_recipes()
    assert catalogue.list_recipes("CUSTOM") == []


def test_list_recipes_returns_copies():
    first = all_recipes()
    first[0]["name"] = "changed"
    assert all_recipes()[0]["name"] != "changed"


# -- DescribeRecipe / DescribeAlgorithm / DescribeFeatureTransformation -----------------------

@pytest.mark.parametrize("name", catalogue.recipe_names())
def test_every_recipe_algorithm_and_transformation_is_a_valid_shape(name):
    arn = "arn:aws:personalize:::recipe/" + name
    recipe = catalogue.describe_recipe(arn)
    check_shape(recipe, output_member("DescribeRecipe", "recipe"))
    assert recipe["name"] == name and recipe["recipeArn"] == arn
    assert recipe["status"] == "ACTIVE"
    assert recipe["recipeType"] in RECIPE_TYPES
    assert recipe["description"]
    assert recipe["creationDateTime"] <= recipe["lastUpdatedDateTime"]

    algorithm = catalogue.describe_algorithm(recipe["algorithmArn"])
    check_shape(algorithm, output_member("DescribeAlgorithm", "algorithm"))
    assert algorithm["algorithmArn"] == recipe["algorithmArn"]
    assert algorithm["algorithmArn"].startswith("arn:aws:personalize:::algorithm/")
    ranges = algorithm["defaultHyperParameterRanges"]
    for group in ranges.values():
        for item in group:
            assert item["name"] in algorithm["defaultHyperParameters"], item["name"]
            if "minValue" in item:
                assert item["minValue"] <= float(algorithm["defaultHyperParameters"][item["name"]]) \
                    <= item["maxValue"]
            else:
                assert algorithm["defaultHyperParameters"][item["name"]] in item["values"]

    transformation = catalogue.describe_feature_transformation(recipe["featureTransformationArn"])
    check_shape(transformation,
                output_member("DescribeFeatureTransformation", "featureTransformation"))
    assert transformation["status"] == "ACTIVE"
    assert transformation["featureTransformationArn"].startswith(
        "arn:aws:personalize:::feature-transformation/")

    merged = catalogue.default_hyperparameters(arn)
    assert merged == {**transformation["defaultParameters"],
                      **algorithm["defaultHyperParameters"]}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in merged.items())


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_properties(name):
    recipe_type, algorithm, transformation = DOCUMENTED[name]
    recipe = catalogue.describe_recipe("arn:aws:personalize:::recipe/" + name)
    if recipe_type:
        assert recipe["recipeType"] == recipe_type
    assert recipe["algorithmArn"] == "arn:aws:personalize:::algorithm/" + algorithm
    if transformation:
        assert recipe["featureTransformationArn"] == \
            "arn:aws:personalize:::feature-transformation/" + transformation


def test_user_personalization_documented_defaults_and_ranges():
    arn = "arn:aws:personalize:::recipe/aws-user-personalization"
    assert catalogue.default_hyperparameters(arn) == {
        "hidden_dimension": "149", "bptt": "32", "recency_mask": "true",
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99"}
    algorithm = catalogue.describe_algorithm(
        catalogue.describe_recipe(arn)["algorithmArn"])
    ranges = algorithm["defaultHyperParameterRanges"]
    integers = {r["name"]: (r["minValue"], r["maxValue"], r["isTunable"])
                for r in ranges["integerHyperParameterRanges"]}
    assert integers == {"hidden_dimension": (32, 256, True), "bptt": (2, 32, True)}
    assert ranges["categoricalHyperParameterRanges"] == [
        {"name": "recency_mask", "values": ["true", "false"], "isTunable": True}]
    assert algorithm["trainingInputMode"] == "File"


def test_other_documented_defaults():
    hp = catalogue.default_hyperparameters
    assert hp("arn:aws:personalize:::recipe/aws-sims") == {
        "popularity_discount_factor": "0.5", "min_cointeraction_count": "3",
        "min_user_history_length_percentile": "0.005",
        "max_user_history_length_percentile": "0.995",
        "min_item_interaction_count_percentile": "0.01",
        "max_item_interaction_count_percentile": "0.9"}
    assert hp("arn:aws:personalize:::recipe/aws-similar-items") == {
        "item_id_hidden_dim": "100", "item_metadata_hidden_dim": "100"}
    assert hp("arn:aws:personalize:::recipe/aws-trending-now") == {
        "trend_discovery_frequency": "2 hours"}
    assert hp("arn:aws:personalize:::recipe/aws-item-affinity") == {"hidden_dimension": "149"}
    assert hp("arn:aws:personalize:::recipe/aws-user-personalization-v2") == {
        "apply_recency_bias": "true"}
    assert hp("arn:aws:personalize:::recipe/aws-next-best-action") == {
        "action_optimization_period": "14"}
    assert hp("arn:aws:personalize:::recipe/aws-personalized-ranking")["hidden_dimension"] == "149"
    assert hp("arn:aws:personalize:::recipe/nope") == {}


def test_default_hyperparameters_are_copies():
    arn = "arn:aws:personalize:::recipe/aws-user-personalization"
    catalogue.default_hyperparameters(arn)["bptt"] = "2"
    assert catalogue.default_hyperparameters(arn)["bptt"] == "32"
    algorithm_arn = "arn:aws:personalize:::algorithm/aws-user-personalization"
    catalogue.describe_algorithm(algorithm_arn)["defaultHyperParameterRanges"][
        "integerHyperParameterRanges"].clear()
    assert catalogue.describe_algorithm(algorithm_arn)["defaultHyperParameterRanges"][
        "integerHyperParameterRanges"]


# -- helpers and errors -------------------------------------------------------------------------

def test_type_and_domain_helpers():
    assert catalogue.recipe_type("arn:aws:personalize:::recipe/aws-sims") == "RELATED_ITEMS"
    assert catalogue.recipe_domain("arn:aws:personalize:::recipe/aws-sims") is None
    assert not catalogue.is_domain_recipe("arn:aws:personalize:::recipe/aws-sims")
    for domain, members in DOMAINS.items():
        for name in members:
            arn = "arn:aws:personalize:::recipe/" + name
            assert catalogue.recipe_domain(arn) == domain
            assert catalogue.is_domain_recipe(arn)
            assert catalogue.describe_recipe(arn)["recipeType"] in RECIPE_TYPES
    assert not catalogue.is_domain_recipe("arn:aws:personalize:::recipe/aws-unknown")
    assert not catalogue.is_domain_recipe("not an arn")


@pytest.mark.parametrize("call, arn", [
    (catalogue.describe_recipe, "arn:aws:personalize:::recipe/aws-hrnn"),
    (catalogue.describe_recipe, "arn:aws:personalize:::algorithm/aws-sims"),
    (catalogue.describe_recipe, "arn:aws:personalize:us-east-1:123456789012:recipe/x"),
    (catalogue.describe_algorithm, "arn:aws:personalize:::algorithm/nope"),
    (catalogue.describe_algorithm, "arn:aws:personalize:::recipe/aws-sims"),
    (catalogue.describe_feature_transformation, "arn:aws:personalize:::feature-transformation/x"),
    (catalogue.recipe_type, "arn:aws:personalize:::recipe/nope"),
    (catalogue.recipe_domain, "arn:aws:personalize:::recipe/nope"),
])
def test_unknown_arn_is_not_found(call, arn):
    with pytest.raises(ResourceNotFoundException) as caught:
        call(arn)
    assert caught.value.message.startswith(f"Resource Arn {arn} does not exist.")


@pytest.mark.parametrize("name", catalogue.LEGACY_RECIPES)
def test_legacy_hrnn_recipes_are_no_longer_available(name):
    arn = f"arn:aws:personalize:::recipe/{name}"
    assert name not in catalogue.recipe_names()
    with pytest.raises(ResourceNotFoundException) as caught:
        catalogue.describe_recipe(arn)
    assert "no longer available" in caught.value.message
    assert "aws-user-personalization" in caught.value.message


def test_recipes_the_trainer_knows_are_in_the_catalogue():
    from chalicelib.models import implemented_recipes
    names = set(catalogue.recipe_names())
    assert set(implemented_recipes()) <= names
