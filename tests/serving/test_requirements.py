"""Which GetRecommendations fields each recipe needs, as AWS's recipe and use-case pages
state them."""
import pytest

from chalicelib.errors import InvalidInputException
from chalicelib.filters import parse_filter
from chalicelib.serving.requirements import (check_filters_have_user,
                                             check_recommendation_request)

R = "arn:aws:personalize:::recipe/"
USER_FILTERS = ['EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")',
                'INCLUDE ItemID WHERE Items.GENRE IN ("a") IF CurrentUser.AGE > 18']


@pytest.mark.parametrize("recipe, recipe_type, user, item", [
    ("aws-trending-now", "USER_PERSONALIZATION", None, None),
    ("aws-vod-trending-now", "USER_PERSONALIZATION", None, None),
    ("aws-user-personalization", "USER_PERSONALIZATION", "u1", None),
    ("aws-sims", "RELATED_ITEMS", None, "i1"),
    ("aws-ecomm-frequently-bought-together", "RELATED_ITEMS", None, "i1"),
    ("aws-vod-more-like-x", "RELATED_ITEMS", "u1", "i1"),
])
def test_accepted(recipe, recipe_type, user, item):
    check_recommendation_request(R + recipe, recipe_type, user, item)


@pytest.mark.parametrize("recipe, recipe_type, user, item, field", [
    ("aws-user-personalization", "USER_PERSONALIZATION", None, None, "userId"),
    ("aws-popularity-count", "USER_PERSONALIZATION", None, None, "userId"),
    ("aws-vod-most-popular", "USER_PERSONALIZATION", None, None, "userId"),
    ("aws-sims", "RELATED_ITEMS", "u1", None, "itemId"),
    ("aws-vod-more-like-x", "RELATED_ITEMS", None, "i1", "userId"),
    ("aws-ecomm-customers-who-viewed-x-also-viewed", "RELATED_ITEMS", None, "i1", "userId"),
    ("aws-personalized-ranking", "PERSONALIZED_RANKING", "u1", None, "GetPersonalizedRanking"),
    ("aws-item-affinity", "USER_SEGMENTATION", "u1", None, "batch segment job"),
])
def test_refused(recipe, recipe_type, user, item, field):
    with pytest.raises(InvalidInputException, match=field):
        check_recommendation_request(R + recipe, recipe_type, user, item)


@pytest.mark.parametrize("expression", USER_FILTERS)
def test_a_filter_that_reads_the_user_needs_a_user_id(expression):
    flt = parse_filter(expression)
    with pytest.raises(InvalidInputException, match="userId"):
        check_filters_have_user(None, [None, flt])
    check_filters_have_user("u1", [flt])
    check_filters_have_user(None, [parse_filter('INCLUDE ItemID WHERE Items.GENRE IN ("a")')])
