"""Which GetRecommendations fields a recipe needs, as AWS's recipe and use-case pages state.

- The API reference: userId is required for USER_PERSONALIZATION recipes, itemId for
  RELATED_ITEMS recipes.
- Trending-Now (aws-trending-now, and the VIDEO_ON_DEMAND "Trending now" use case):
  "You pass a userId in your request only if you apply a filter that requires it" - one
  that reads CurrentUser or the items the user interacted with.
- Domain use cases (ECOMMERCE, VIDEO_ON_DEMAND pages, "GetRecommendations requirements"):
  "Customers who viewed X also viewed", "Because you watched X" and "More like X" need both
  userId and itemId; "Frequently bought together" needs a userId only to filter by
  CurrentUser.
- Popularity-Count is a USER_PERSONALIZATION recipe whose page names no exception, so the
  API reference's rule holds (as for the "Most popular"/"Best sellers" use cases, whose
  pages say userId: Required).
"""
from __future__ import annotations

from chalicelib.errors import InvalidInputException

# recipe name -> what it needs beyond its recipe type's rule
_USER_ONLY_FOR_FILTERS = {"aws-trending-now", "aws-vod-trending-now"}
_USER_AND_ITEM = {"aws-ecomm-customers-who-viewed-x-also-viewed",
                  "aws-vod-because-you-watched-x", "aws-vod-more-like-x"}


def check_recommendation_request(recipe_arn: str, recipe_type: str, user_id: str | None,
                                 item_id: str | None) -> None:
    """InvalidInputException when the request lacks a field the served recipe needs."""
    name = recipe_arn.rsplit("/", 1)[-1]
    if recipe_type not in ("USER_PERSONALIZATION", "RELATED_ITEMS"):
        hint = "use GetPersonalizedRanking" if recipe_type == "PERSONALIZED_RANKING" else \
            "use a batch segment job" if recipe_type == "USER_SEGMENTATION" else \
            "use GetActionRecommendations" if recipe_type == "PERSONALIZED_ACTIONS" else ""
        raise InvalidInputException(
            f"GetRecommendations is not supported for {recipe_type} recipes"
            + (f"; {hint}." if hint else "."))
    if recipe_type == "RELATED_ITEMS" and not item_id:
        raise InvalidInputException(
            f"itemId is required for a campaign or recommender of {name} (a RELATED_ITEMS "
            "recipe).")
    if user_id:
        return
    if name in _USER_AND_ITEM or (recipe_type == "USER_PERSONALIZATION"
                                  and name not in _USER_ONLY_FOR_FILTERS):
        raise InvalidInputException(
            f"userId is required for a campaign or recommender of {name}.")


def check_filters_have_user(user_id: str | None, filters) -> None:
    """A filter that reads CurrentUser or the user's interactions needs a userId (where the
    recipe itself does not: Trending-Now, the RELATED_ITEMS recipes)."""
    if user_id:
        return
    for flt in filters:
        if flt is not None and (flt.uses_users or flt.uses_interactions):
            raise InvalidInputException(
                "userId is required when the filter uses CurrentUser or the user's "
                "interactions.")
