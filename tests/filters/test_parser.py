"""Grammar: AWS's documented examples parse; invalid expressions say what and where."""
import pytest

from chalicelib.errors import InvalidInputException
from chalicelib.filters import parse_filter

AWS_EXAMPLES = [
    # Item interaction data
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")',
    'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
    'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")',
    # Item data
    'EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)',
    'INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE',
    'EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoe") AND Items.CATEGORY_L2 NOT IN ("boot")',
    'INCLUDE ItemID WHERE Items.NUMBER_OF_DOWNLOADS < 20',
    # User data
    'EXCLUDE ItemID WHERE Items.NUMBER_OF_DOWNLOADS < 20 IF CurrentUser.AGE > 18 AND CurrentUser.AGE < 30',
    'INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND Items.DESCRIPTION IN ("luxury") IF CurrentUser.AGE > 18',
    # Combining expressions
    'INCLUDE ItemID WHERE Items.GENRE IN ("drama") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")',
    'INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("favorite")',
    # User segments
    'INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)',
    'EXCLUDE UserID WHERE Users.AGE < $AGE',
    'INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click", "rating")',
    'EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
    # CreateFilter's own example: keywords and names in any case
    'EXCLUDE itemId WHERE INTERACTIONS.event_type in ("Purchase")',
]


@pytest.mark.parametrize("expression", AWS_EXAMPLES)
def test_aws_examples_parse(expression):
    flt = parse_filter(expression)
    assert flt.expressions


def test_structure_of_a_pipe_of_expressions():
    flt = parse_filter('exclude ItemID where Items.GENRE in ($g) | include itemid where items.price < 50')
    assert [e.action for e in flt.expressions] == ["EXCLUDE", "INCLUDE"]
    assert flt.target == "ItemID"
    assert flt.placeholders == ["g"]
    assert flt.dataset_fields() == {"Items": {"GENRE", "PRICE"}}
    assert not (flt.uses_interactions or flt.uses_users or flt.uses_current_item)


def test_context_flags_and_fields():
    flt = parse_filter(
        'INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE IF CurrentUser.AGE >= $MIN_AGE'
        ' | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")')
    assert flt.uses_current_item and flt.uses_users and flt.uses_interactions
    assert flt.placeholders == ["MIN_AGE"]
    assert flt.dataset_fields() == {"Items": {"PRICE"}, "Users": {"AGE"},
                                    "Interactions": {"EVENT_TYPE"}}


def test_and_binds_tighter_than_or():
    flt = parse_filter('INCLUDE ItemID WHERE Items.A IN ("1") OR Items.B IN ("2") AND Items.C IN ("3")')
    where = flt.expressions[0].where
    assert where.operator == "OR"
    assert where.parts[1].operator == "AND"


def test_values_strings_numbers_escapes_and_all_comparison_operators():
    flt = parse_filter('INCLUDE ItemID WHERE Items.NAME IN ("say \\"hi\\"", "a,b", 7)')
    operands = flt.expressions[0].where.operands
    assert [o.text for o in operands] == ['say "hi"', "a,b", "7"]
    for op in ("=", "!=", "<", "<=", ">", ">="):
        cond = parse_filter(f"INCLUDE ItemID WHERE Items.PRICE {op} -1.5").expressions[0].where
        assert cond.operator == op and cond.operands[0].text == "-1.5"


def _error(expression):
    with pytest.raises(InvalidInputException) as info:
        parse_filter(expression)
    assert type(info.value).__name__ == "InvalidInputException"
    return str(info.value)


@pytest.mark.parametrize("expression, fragments", [
    ("", ["empty"]),
    ("   ", ["empty"]),
    ('INCLUDE ItemID Items.GENRE IN ("a")', ["expected WHERE", "'Items'", "position 15"]),
    ('KEEP ItemID WHERE Items.GENRE IN ("a")', ["INCLUDE or EXCLUDE", "'KEEP'", "position 0"]),
    ('INCLUDE Item WHERE Items.GENRE IN ("a")', ["ItemID, UserID or ActionID"]),
    ('INCLUDE ItemID WHERE Products.GENRE IN ("a")', ["unknown dataset 'Products'", "position 21"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN "a"', ["'('", 'found "a"']),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a"', ["',' or ')'", "end of the expression"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a)', ["unterminated string"]),
    ("INCLUDE ItemID WHERE Items.GENRE IN ('a')", ["double quotes"]),
    ('INCLUDE ItemID WHERE Items.GENRE LIKE ("a")', ["IN, NOT IN or a comparison operator", "'LIKE'"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") AND', ["dataset field", "end of the expression"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") EXCLUDE', ["'|', AND, OR, IF"]),
    ('INCLUDE ItemID WHERE Items.PRICE < "10"', ["compare numbers"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") # x', ["unexpected character '#'"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ($)', ["parameter name"]),
    # dataset rules
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Interactions.EVENT_TYPE IN ("click")',
     ["dataset of the first condition", "'|'"]),
    ('INCLUDE ItemID WHERE Interactions.ITEM_ID IN ("a")', ["only be filtered by EVENT_TYPE"]),
    ('INCLUDE ItemID WHERE Interactions.EVENT_TYPE = 3', ["IN or NOT IN"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("*")', ['"*"', "EVENT_TYPE"]),
    ('EXCLUDE ItemID WHERE Items.GENRE NOT IN ($g)', ["$g", "NOT IN", "opposite action"]),
    ('INCLUDE ItemID WHERE Users.AGE > 3', ["IF CurrentUser.AGE"]),
    ('INCLUDE ItemID WHERE CurrentUser.AGE > 3', ["IF condition"]),
    ('INCLUDE ItemID WHERE CurrentItem.GENRE IN ("a")', ["as a value"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") IF Items.PRICE > 3', ["CurrentUser fields"]),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") IF CurrentUser.AGE > 3 OR CurrentUser.AGE < 1',
     ["only be extended with AND"]),
    ('INCLUDE UserID WHERE Items.GENRE IN ("a")', ["Users and Interactions"]),
    ('INCLUDE UserID WHERE Users.X IN ("a") IF CurrentUser.AGE > 3', ["user segment"]),
    ('INCLUDE UserID WHERE Users.X IN CurrentItem.X', ["ItemID filter"]),
    ('INCLUDE ItemID WHERE Items.A IN ("a") | EXCLUDE UserID WHERE Users.B IN ("b")',
     ["same thing", "ItemID", "UserID"]),
])
def test_invalid_expressions_say_what_is_wrong(expression, fragments):
    message = _error(expression)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_length_limit():
    head = 'EXCLUDE ItemID WHERE Items.GENRE IN ('
    values = ", ".join(['"v"'] * 2000)
    assert "2500" in _error(head + values + ")")
    short = head + ", ".join(['"v"'] * ((2500 - len(head) - 1) // 5)) + ")"
    assert len(short) <= 2500
    parse_filter(short)


def test_distinct_field_limit():
    ten = " | ".join(f'INCLUDE ItemID WHERE Items.F{i} IN ("a")' for i in range(10))
    parse_filter(ten)
    message = _error(ten + ' | INCLUDE ItemID WHERE Items.F10 IN ("a")')
    assert "11 distinct dataset fields" in message and "at most 10" in message


def test_placeholder_limit():
    clause = " OR ".join(f"Items.F IN ($p{i})" for i in range(26))
    assert "at most 25" in _error(f"EXCLUDE ItemID WHERE {clause}")
