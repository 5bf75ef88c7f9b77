"""RuntimeProvider logic on a fake model: filters, overlay updates, metadata, promotions,
rankings. (The HTTP path is covered by tests/api/test_serving.py.)"""
import random

import pytest

from chalicelib.errors import InvalidInputException, ResourceNotFoundException
from chalicelib.datasets import changes
from chalicelib.serving import promotions
from tests.serving.fakes import CAMPAIGN, GROUP, PREFIX, served


@pytest.fixture
def s(tmp_path):
    fixture = served(tmp_path)
    yield fixture
    changes.unsubscribe(fixture.provider.engine.catalogs.on_records)


def ids(result, key="itemList"):
    return [entry["itemId"] for entry in result[key]]


def test_defaults_history_excluded_and_recommendation_id(s):
    result = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u1")
    assert len(result["itemList"]) == 25 and "i0" not in ids(result)
    assert result["recommendationId"].startswith("RID-")


def test_num_results_bounds(s):
    assert len(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u",
                      numResults=3)["itemList"]) == 3
    with pytest.raises(InvalidInputException):
        s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=501)
    with pytest.raises(InvalidInputException):
        s.call("get_recommendations", campaignArn=CAMPAIGN)   # userId is required


def test_item_filter_with_values(s):
    arn = s.add_filter("genre", "INCLUDE ItemID WHERE Items.GENRE IN ($G)")
    result = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=5,
                    filterArn=arn, filterValues={"G": '"drama"'})
    assert ids(result) == ["i1", "i4", "i7", "i10", "i13"]


def test_numeric_filter_and_unknown_filter(s):
    arn = s.add_filter("cheap", "EXCLUDE ItemID WHERE Items.PRICE >= 3")
    assert ids(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u",
                      filterArn=arn)) == ["i0", "i1", "i2"]
    with pytest.raises(ResourceNotFoundException):
        s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u",
               filterArn=f"{PREFIX}:filter/nope")


def test_put_items_visible_to_filters_immediately(s):
    arn = s.add_filter("genre2", "INCLUDE ItemID WHERE Items.GENRE IN ($G)")
    first = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=3,
                   filterArn=arn, filterValues={"G": '"drama"'})
    assert ids(first) == ["i1", "i4", "i7"]
    changes.publish(GROUP, "Items", [{"ITEM_ID": "i0", "GENRE": "drama", "PRICE": 0.0},
                                     {"ITEM_ID": "i1", "GENRE": "comedy", "PRICE": 1.0}])
    after = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=3,
                   filterArn=arn, filterValues={"G": '"drama"'})
    assert ids(after) == ["i0", "i4", "i7"]


def test_interaction_filter_sees_live_events(s):
    arn = s.add_filter("seen", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')
    s.backend.events.append_events(GROUP, [
        {"USER_ID": "u9", "ITEM_ID": "i0", "EVENT_TYPE": "Click", "TIMESTAMP": 1.0},
        {"USER_ID": "u9", "ITEM_ID": "i1", "EVENT_TYPE": "view", "TIMESTAMP": 2.0}])
    got = ids(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u9",
                     numResults=50, filterArn=arn))
    # i0 (clicked) is filtered; i1 is only in the history, which the fake model skips
    assert "i0" not in got and "i1" not in got and "i2" in got


def test_current_user_condition(s):
    arn = s.add_filter("tier", 'INCLUDE ItemID WHERE Items.GENRE IN ("drama") '
                               'IF CurrentUser.TIER IN ("gold")')
    gold = ids(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u1",
                      numResults=2, filterArn=arn))
    free = ids(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u2",
                      numResults=2, filterArn=arn))
    assert gold == ["i1", "i4"] and free == ["i0", "i1"]
    changes.publish(GROUP, "Users", [{"USER_ID": "u2", "TIER": "gold"}])
    assert ids(s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u2",
                      numResults=2, filterArn=arn)) == ["i1", "i4"]


def test_metadata_columns_lower_case(s):
    result = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=2,
                    metadataColumns={"ITEMS": ["GENRE", "price"]})
    assert result["itemList"][0]["metadata"] == {"genre": "comedy", "price": "0"}
    assert result["itemList"][1]["metadata"] == {"genre": "drama", "price": "1"}
    with pytest.raises(InvalidInputException):
        s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u",
               metadataColumns={"ITEMS": ["NOPE"]})


def test_metadata_needs_campaign_config(tmp_path):
    fixture = served(tmp_path, metadata=False)
    try:
        with pytest.raises(InvalidInputException, match="enableMetadataWithRecommendations"):
            fixture.call("get_recommendations", campaignArn=CAMPAIGN, userId="u",
                         metadataColumns={"ITEMS": ["GENRE"]})
    finally:
        changes.unsubscribe(fixture.provider.engine.catalogs.on_records)


def test_promotion_share_order_and_no_duplicates(s):
    promo = s.add_filter("promo", 'INCLUDE ItemID WHERE Items.GENRE IN ("drama")')
    regular = s.add_filter("regular", 'EXCLUDE ItemID WHERE Items.GENRE IN ("drama")')
    result = s.call("get_recommendations", campaignArn=CAMPAIGN, userId="u", numResults=10,
                    filterArn=regular, promotions=[{"name": "dramas",
                                                    "percentPromotedItems": 30,
                                                    "filterArn": promo}])
    promoted = [e["itemId"] for e in result["itemList"] if e.get("promotionName") == "dramas"]
    others = [e["itemId"] for e in result["itemList"] if "promotionName" not in e]
    assert promoted == ["i1", "i4", "i7"]          # sorted among themselves
    assert others == ["i0", "i2", "i3", "i5", "i6", "i8", "i9"]
    assert len(set(ids(result))) == 10


def test_merge_places_promoted_randomly_in_order():
    merged = promotions.merge([("a", 3.0), ("b", 2.0), ("c", 1.0)], [("p", 9.0), ("q", 8.0)],
                              "promo", 4, random.Random(1))
    assert [e["itemId"] for e in merged if "promotionName" in e] == ["p", "q"]
    assert [e["itemId"] for e in merged if "promotionName" not in e] == ["a", "b"]
    assert promotions.promoted_count(25, 10) == 2 and promotions.promoted_count(5, 10) == 1


def test_related_items_current_item_filter(tmp_path):
    fixture = served(tmp_path, recipe_type="RELATED_ITEMS")
    try:
        arn = fixture.add_filter("same", "INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE")
        got = ids(fixture.call("get_recommendations", campaignArn=CAMPAIGN, itemId="i1",
                               numResults=3, filterArn=arn))
        assert got == ["i4", "i7", "i10"]
        with pytest.raises(InvalidInputException):
            fixture.call("get_recommendations", campaignArn=CAMPAIGN, userId="u")
    finally:
        changes.unsubscribe(fixture.provider.engine.catalogs.on_records)


def test_ranking_permutation_filter_drops_and_unknown_last(tmp_path):
    fixture = served(tmp_path, recipe_type="PERSONALIZED_RANKING")
    try:
        result = fixture.call("get_personalized_ranking", campaignArn=CAMPAIGN, userId="u",
                              inputList=["new", "i5", "i2", "i9"])
        assert ids(result, "personalizedRanking") == ["i2", "i5", "i9", "new"]
        arn = fixture.add_filter("nodrama", 'EXCLUDE ItemID WHERE Items.GENRE IN ("drama")')
        result = fixture.call("get_personalized_ranking", campaignArn=CAMPAIGN, userId="u",
                              inputList=["new", "i5", "i4", "i9"], filterArn=arn,
                              metadataColumns={"ITEMS": ["GENRE"]})
        assert ids(result, "personalizedRanking") == ["i5", "i9", "new"]
        assert result["personalizedRanking"][0]["metadata"] == {"genre": "action|comedy"}
    finally:
        changes.unsubscribe(fixture.provider.engine.catalogs.on_records)
