"""Masks on a small catalogue: exactly the items each construct should allow."""
import numpy as np
import pytest

from chalicelib.errors import InvalidInputException
from chalicelib.filters import CatalogIndex, FilterContext, parse_filter, parse_filter_value

ITEMS = ["i0", "i1", "i2", "i3", "i4", "i5"]
COLUMNS = {
    "GENRE": np.array(["comedy", "drama|comedy", "horror", "drama", "", "action|horror"], dtype=object),
    "PRICE": np.array([10.0, 55.0, 49.0, np.nan, 50.0, 5.0]),
    "YEAR": np.array([2000, 2001, 2000, 1999, 2020, 2001]),
    "STUDIO": np.array(["a", "b", "a", "c", "b", "a"], dtype=object),
}


@pytest.fixture(scope="module")
def catalog():
    return CatalogIndex(ITEMS, COLUMNS)


def allowed(expression, catalog, values=None, **context):
    mask = parse_filter(expression).mask(FilterContext(catalog, **context), values or {})
    assert mask.dtype == bool and mask.shape == (len(ITEMS),)
    return [item for item, keep in zip(ITEMS, mask) if keep]


def test_in_matches_any_of_a_multi_valued_cell(catalog):
    assert allowed('INCLUDE ItemID WHERE Items.GENRE IN ("comedy")', catalog) == ["i0", "i1"]
    assert allowed('INCLUDE ItemID WHERE Items.GENRE IN ("horror", "drama")', catalog) == ["i1", "i2", "i3", "i5"]
    assert allowed('EXCLUDE ItemID WHERE Items.GENRE IN ("comedy")', catalog) == ["i2", "i3", "i4", "i5"]


def test_not_in_is_the_complement_including_missing_values(catalog):
    assert allowed('INCLUDE ItemID WHERE Items.GENRE NOT IN ("comedy", "horror")', catalog) == ["i3", "i4"]


def test_in_on_numeric_column_and_number_literals(catalog):
    assert allowed('INCLUDE ItemID WHERE Items.YEAR IN ("2000", 2020)', catalog) == ["i0", "i2", "i4"]
    assert allowed('INCLUDE ItemID WHERE Items.YEAR IN (2001.0)', catalog) == ["i1", "i5"]


@pytest.mark.parametrize("op, expected", [
    ("<", ["i0", "i2", "i5"]), ("<=", ["i0", "i2", "i4", "i5"]), (">", ["i1"]),
    (">=", ["i1", "i4"]), ("=", ["i4"]), ("!=", ["i0", "i1", "i2", "i5"]),
])
def test_comparisons_skip_missing_numbers(catalog, op, expected):
    assert allowed(f"INCLUDE ItemID WHERE Items.PRICE {op} 50", catalog) == expected


def test_and_or_precedence(catalog):
    expr = 'INCLUDE ItemID WHERE Items.STUDIO IN ("c") OR Items.STUDIO IN ("a") AND Items.PRICE < 20'
    assert allowed(expr, catalog) == ["i0", "i3", "i5"]


def test_pipes_are_union_of_includes_minus_union_of_excludes(catalog):
    expr = ('INCLUDE ItemID WHERE Items.STUDIO IN ("a") | INCLUDE ItemID WHERE Items.STUDIO IN ("b")'
            ' | EXCLUDE ItemID WHERE Items.GENRE IN ("horror") | EXCLUDE ItemID WHERE Items.PRICE > 50')
    assert allowed(expr, catalog) == ["i0", "i4"]
    reordered = ('EXCLUDE ItemID WHERE Items.PRICE > 50 | INCLUDE ItemID WHERE Items.STUDIO IN ("b")'
                 ' | EXCLUDE ItemID WHERE Items.GENRE IN ("horror") | INCLUDE ItemID WHERE Items.STUDIO IN ("a")')
    assert allowed(reordered, catalog) == ["i0", "i4"]


def test_typical_benchmark_expression(catalog):
    expr = 'EXCLUDE ItemID WHERE Items.GENRE IN ($g) | INCLUDE ItemID WHERE Items.PRICE < 50'
    assert allowed(expr, catalog, {"g": '"horror"'}) == ["i0"]
    assert allowed(expr, catalog, {"g": '"drama","nothing"'}) == ["i0", "i2", "i5"]


def test_interactions_event_types_case_insensitive_and_wildcard(catalog):
    history = {"i0": {"Click"}, "i2": {"purchase", "click"}, "i4": {"view"}, "unknown": {"click"}}
    assert allowed('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', catalog,
                   interactions=history) == ["i1", "i3", "i4", "i5"]
    assert allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', catalog,
                   interactions=history) == ["i0", "i2", "i4"]
    assert allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($E)', catalog, {"E": '"VIEW"'},
                   interactions=history) == ["i4"]
    # NOT IN: items with an interaction of a type outside the list
    assert allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")', catalog,
                   interactions=history) == ["i2", "i4"]
    # a user without history: nothing to exclude
    assert allowed('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', catalog) == ITEMS


def test_items_and_interactions_chained_with_a_pipe(catalog):
    expr = ('INCLUDE ItemID WHERE Items.GENRE IN ("drama", "comedy")'
            ' | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")')
    assert allowed(expr, catalog, interactions={"i1": ["stream"]}) == ["i0", "i3"]


def test_if_current_user(catalog):
    expr = 'EXCLUDE ItemID WHERE Items.PRICE < 20 IF CurrentUser.AGE > 18 AND CurrentUser.AGE < 30'
    assert allowed(expr, catalog, user={"AGE": 25}) == ["i1", "i2", "i3", "i4"]
    assert allowed(expr, catalog, user={"age": "40"}) == ITEMS
    assert allowed(expr, catalog, user={}) == ITEMS            # unknown age: condition false
    expr = 'INCLUDE ItemID WHERE Items.STUDIO IN ("c") IF CurrentUser.TIER IN ("gold")'
    assert allowed(expr, catalog, user={"TIER": "silver|gold"}) == ["i3"]
    assert allowed(expr, catalog, user={"TIER": "silver"}) == ITEMS   # expression does not apply
    expr = 'INCLUDE ItemID WHERE Items.PRICE <= 10 IF CurrentUser.AGE >= $MIN'
    assert allowed(expr, catalog, {"MIN": '"18"'}, user={"AGE": 18}) == ["i0", "i5"]


def test_current_item(catalog):
    expr = 'INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.STUDIO IN CurrentItem.STUDIO'
    assert allowed(expr, catalog, current_item="i1") == ["i4"]
    assert allowed(expr, catalog, current_item="i2") == ["i0", "i5"]
    assert allowed('EXCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE', catalog,
                   current_item="i1") == ["i2", "i4", "i5"]
    # the current item may be outside the catalogue: its metadata is given instead
    assert allowed('INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE', catalog,
                   current_item_metadata={"genre": "action"}) == ["i5"]
    # a current item without a price compares with nothing
    assert allowed('INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE', catalog,
                   current_item="i3") == []
    with pytest.raises(InvalidInputException, match="itemId"):
        allowed('INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE', catalog)


def test_item_id_field(catalog):
    assert allowed('EXCLUDE ItemID WHERE Items.ITEM_ID IN ($x)', catalog, {"x": '"i1","i4"'}) == \
        ["i0", "i2", "i3", "i5"]


def test_placeholders_missing_values(catalog):
    # EXCLUDE without its values: that expression is not used
    expr = 'EXCLUDE ItemID WHERE Items.GENRE IN ($g) | INCLUDE ItemID WHERE Items.PRICE < 50'
    assert allowed(expr, catalog) == ["i0", "i2", "i5"]
    # INCLUDE needs every value
    with pytest.raises(InvalidInputException) as info:
        allowed('INCLUDE ItemID WHERE Items.GENRE IN ($g) AND Items.PRICE < $p', catalog, {"g": '"x"'})
    assert "$p" in str(info.value) and type(info.value).__name__ == "InvalidInputException"
    with pytest.raises(InvalidInputException, match="one number"):
        allowed('INCLUDE ItemID WHERE Items.PRICE < $p', catalog, {"p": '"1","2"'})
    with pytest.raises(InvalidInputException, match="needs a number"):
        allowed('INCLUDE ItemID WHERE Items.PRICE < $p', catalog, {"p": '"cheap"'})


def test_parse_filter_value():
    assert parse_filter_value("g", '"comedy","drama"') == ["comedy", "drama"]
    assert parse_filter_value("g", ' "a, b" , "c\\"d" ') == ["a, b", 'c"d']
    assert parse_filter_value("n", "18") == ["18"]
    assert parse_filter_value("n", "18, 19") == ["18", "19"]
    for bad in ['"a', '"a" "b"', "", '"a",']:
        with pytest.raises(InvalidInputException):
            parse_filter_value("g", bad)


def test_filter_values_limits(catalog):
    expr = 'EXCLUDE ItemID WHERE Items.GENRE IN ($g)'
    with pytest.raises(InvalidInputException, match="25"):
        allowed(expr, catalog, {f"k{i}": '"x"' for i in range(26)})
    with pytest.raises(InvalidInputException, match="1000"):
        allowed(expr, catalog, {"g": '"' + "x" * 1000 + '"'})


def test_masks_are_fresh_arrays_and_cache_is_consistent(catalog):
    flt = parse_filter('INCLUDE ItemID WHERE Items.GENRE IN ($g)')
    context = FilterContext(catalog)
    first = flt.mask(context, {"g": '"comedy"'})
    first[:] = False                                   # caller may write into its mask
    again = flt.mask(context, {"g": '"comedy"'})
    assert list(again) == [True, True, False, False, False, False]
    assert list(flt.mask(context, {"g": '"horror"'})) == [False, False, True, False, False, True]


def test_unknown_column_matches_nothing(catalog):
    assert allowed('INCLUDE ItemID WHERE Items.COLOR IN ("red")', catalog) == []
    assert allowed('EXCLUDE ItemID WHERE Items.WEIGHT > 1', catalog) == ITEMS


def test_user_segment_filters_over_a_user_table():
    users = CatalogIndex(["u0", "u1", "u2", "u3"], {
        "MEMBERSHIP_STATUS": np.array(["gold", "silver", "gold", ""], dtype=object),
        "AGE": np.array([17, 30, 45, 22]),
    }, id_field="USER_ID")

    def segment(expression, values=None, interactions=None):
        mask = parse_filter(expression).mask(FilterContext(users, interactions=interactions), values)
        return [u for u, keep in zip(users.ids, mask) if keep]

    assert segment('INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($M)', {"M": '"gold"'}) == ["u0", "u2"]
    assert segment('EXCLUDE UserID WHERE Users.AGE < $AGE', {"AGE": '"25"'}) == ["u1", "u2"]
    events = {"u1": {"click"}, "u3": {"Rating", "view"}}
    assert segment('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click", "rating")',
                   interactions=events) == ["u1", "u3"]
    assert segment('EXCLUDE UserID WHERE Users.USER_ID IN ("u0")') == ["u1", "u2", "u3"]


def test_build_helper_and_item_ids():
    context = FilterContext.build(["a", "b"], {"genre": np.array(["x", "y"], dtype=object)})
    assert list(context.item_ids) == ["a", "b"]
    mask = parse_filter('INCLUDE ItemID WHERE Items.GENRE IN ("y")').mask(context, {})
    assert list(mask) == [False, True]


def test_values_for_other_placeholders_are_ignored(catalog):
    assert allowed('EXCLUDE ItemID WHERE Items.GENRE IN ($g)', catalog,
                   {"g": '"drama"', "unused": "not \"parsed"}) == ["i0", "i2", "i4", "i5"]
