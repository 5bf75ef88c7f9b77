"""Recursive-descent parser for filter expressions, with AWS's documented rules checked.

Grammar (keywords, dataset names and field names are case-insensitive; field names are
upper-cased because our tables name fields that way):

    filter     := expression ( '|' expression )*
    expression := (INCLUDE | EXCLUDE) (ItemID | UserID | ActionID) WHERE where [IF user]
    where      := conjunct ( OR conjunct )*          -- AND binds tighter than OR
    conjunct   := condition ( AND condition )*
    user       := condition ( AND condition )*       -- CurrentUser conditions only
    condition  := Dataset '.' FIELD ( IN list | NOT IN list | op operand )
    list       := '(' value ( ',' value )* ')' | CurrentItem '.' FIELD
    value      := "string" | number | $PARAM
    operand    := number | $PARAM | CurrentItem '.' FIELD
    op         := = | != | < | <= | > | >=

Rules from the Amazon Personalize developer guide ("Filter expression structure and
elements", "Guidelines and requirements"): conditions joined by AND/OR use the dataset of
the first condition; interactions are filtered by EVENT_TYPE only; "*" only for event
types; IF only for CurrentUser, once, at the end of an expression, extended with AND;
CurrentItem only for item filters; no placeholders with NOT IN; at most 10 distinct
dataset fields per filter; the expression is 1 to 2500 characters (CreateFilter).
"""
from __future__ import annotations

from chalicelib.filters import lexer
from chalicelib.filters.lexer import Token, syntax_error, tokenize
from chalicelib.filters.nodes import (
    ACTION_ID, ACTION_INTERACTIONS, ACTIONS, AND, CURRENT_ITEM, CURRENT_USER,
    EXCLUDE, IN, INCLUDE, INTERACTIONS, ITEM_ID, ITEMS, NOT_IN, OR, USER_ID, USERS,
    Condition, Expression, FieldRef, Filter, Junction, Literal, Node, Param,
)
from chalicelib.errors import InvalidInputException

MAX_EXPRESSION_LENGTH = 2500      # CreateFilter filterExpression length constraint
MAX_DISTINCT_FIELDS = 10          # distinct dataset fields per filter (guidelines)
MAX_PLACEHOLDERS = 25             # a request's filterValues holds at most 25 entries
MAX_PARAM_NAME_LENGTH = 50        # filterValues key length constraint

_TARGETS = {"itemid": ITEM_ID, "userid": USER_ID, "actionid": ACTION_ID}
_DATASETS = {name.lower(): name for name in
             (ITEMS, USERS, INTERACTIONS, ACTIONS, ACTION_INTERACTIONS, CURRENT_ITEM, CURRENT_USER)}
# The datasets a WHERE condition may read, per target.
_WHERE_DATASETS = {
    ITEM_ID: (ITEMS, INTERACTIONS),
    USER_ID: (USERS, INTERACTIONS),
    ACTION_ID: (ACTIONS, ACTION_INTERACTIONS),
}
_EVENT_DATASETS = (INTERACTIONS, ACTION_INTERACTIONS)
EVENT_TYPE = "EVENT_TYPE"
WILDCARD = "*"


def parse_filter(expression: str) -> Filter:
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidInputException("Invalid filter expression: the expression is empty.")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise InvalidInputException(
            f"Invalid filter expression: it is {len(expression)} characters long; "
            f"the maximum is {MAX_EXPRESSION_LENGTH}.")
    parsed = _Parser(expression).parse()
    _check_filter_limits(parsed)
    return parsed


class _Parser:
    def __init__(self, expression: str):
        self.source = expression
        self.tokens = tokenize(expression)
        self.index = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != lexer.END:
            self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.token.kind == lexer.WORD and self.token.text.upper() in words

    def at_punct(self, char: str) -> bool:
        return self.token.kind == lexer.PUNCT and self.token.text == char

    def expect_word(self, *words: str, what: str) -> Token:
        if not self.at_word(*words):
            raise self.unexpected(what)
        return self.advance()

    def expect_punct(self, char: str, what: str) -> Token:
        if not self.at_punct(char):
            raise self.unexpected(what)
        return self.advance()

    def unexpected(self, what: str, token: Token | None = None) -> InvalidInputException:
        token = token or self.token
        return syntax_error(f"expected {what} but found {token.describe()}", token.position)

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Filter:
        expressions = [self.expression()]
        while self.at_punct("|"):
            self.advance()
            expressions.append(self.expression())
        if self.token.kind != lexer.END:
            raise self.unexpected("'|', AND, OR, IF or the end of the expression")
        targets = {e.target for e in expressions}
        if len(targets) > 1:
            raise InvalidInputException(
                "Invalid filter expression: all expressions joined by '|' must filter the "
                f"same thing, but this one mixes {', '.join(sorted(targets))}.")
        return Filter(self.source, expressions)

    def expression(self) -> Expression:
        start = self.token
        action = self.expect_word(INCLUDE, EXCLUDE, what="INCLUDE or EXCLUDE").text.upper()
        target_token = self.token
        if target_token.kind != lexer.WORD or target_token.text.lower() not in _TARGETS:
            raise self.unexpected("ItemID, UserID or ActionID")
        target = _TARGETS[self.advance().text.lower()]
        self.expect_word("WHERE", what="WHERE")
        where = self.where(target)
        if_user = None
        if self.at_word("IF"):
            if_token = self.advance()
            if target == USER_ID:
                raise syntax_error("IF conditions on CurrentUser are not allowed in user segment "
                                   "(UserID) filters", if_token.position)
            if_user = self.user_conditions()
        dataset = next(_conditions(where)).field.dataset
        return Expression(action, target, where, if_user, dataset, start.position)

    def where(self, target: str) -> Node:
        first: list[FieldRef] = []   # the dataset of the first condition binds the rest

        def condition() -> Condition:
            cond = self.condition(target, in_if=False)
            if not first:
                first.append(cond.field)
            elif cond.field.dataset != first[0].dataset:
                raise syntax_error(
                    f"conditions joined by AND/OR must use the dataset of the first condition "
                    f"({first[0].dataset}), but {cond.field} does not; join expressions on "
                    f"different datasets with '|'", cond.field.position)
            return cond

        def conjunct() -> Node:
            parts = [condition()]
            while self.at_word(AND):
                self.advance()
                parts.append(condition())
            return parts[0] if len(parts) == 1 else Junction(AND, tuple(parts))

        parts = [conjunct()]
        while self.at_word(OR):
            self.advance()
            parts.append(conjunct())
        return parts[0] if len(parts) == 1 else Junction(OR, tuple(parts))

    def user_conditions(self) -> Node:
        parts = [self.condition(None, in_if=True)]
        while self.at_word(AND, OR):
            joiner = self.advance()
            if joiner.text.upper() == OR:
                raise syntax_error("IF conditions can only be extended with AND, not OR",
                                   joiner.position)
            parts.append(self.condition(None, in_if=True))
        return parts[0] if len(parts) == 1 else Junction(AND, tuple(parts))

    def field_ref(self) -> FieldRef:
        token = self.token
        if token.kind != lexer.WORD:
            raise self.unexpected("a dataset field such as Items.GENRE")
        dataset = _DATASETS.get(token.text.lower())
        if dataset is None:
            raise syntax_error(
                f"unknown dataset '{token.text}' (expected Items, Users, Interactions, Actions, "
                f"Action_Interactions, CurrentItem or CurrentUser)", token.position)
        self.advance()
        self.expect_punct(".", f"'.' and a field name after {dataset}")
        name = self.token
        if name.kind != lexer.WORD:
            raise self.unexpected(f"a field name after {dataset}.")
        self.advance()
        return FieldRef(dataset, name.text.upper(), token.position)

    def condition(self, target: str | None, in_if: bool) -> Condition:
        ref = self.field_ref()
        self.check_subject(ref, target, in_if)
        op_token = self.token
        if self.at_word(IN):
            self.advance()
            operator = IN
        elif self.at_word("NOT"):
            self.advance()
            self.expect_word(IN, what="IN after NOT")
            operator = NOT_IN
        elif op_token.kind == lexer.OPERATOR:
            operator = self.advance().text
        else:
            raise self.unexpected("IN, NOT IN or a comparison operator (=, !=, <, <=, >, >=)")

        if operator in (IN, NOT_IN):
            operands = self.value_list(target, in_if)
        else:
            operands = (self.comparison_operand(target, in_if),)
        condition = Condition(ref, operator, operands)
        self.check_condition(condition, op_token)
        return condition

    def check_subject(self, ref: FieldRef, target: str | None, in_if: bool) -> None:
        if in_if:
            if ref.dataset != CURRENT_USER:
                raise syntax_error(f"an IF condition can only check CurrentUser fields, not {ref}",
                                   ref.position)
            return
        if ref.dataset == CURRENT_USER:
            raise syntax_error(f"{ref} can only be used in an IF condition at the end of an "
                               f"expression", ref.position)
        if ref.dataset == CURRENT_ITEM:
            raise syntax_error(f"{ref} can only be used as a value, as in Items.{ref.name} IN "
                               f"CurrentItem.{ref.name}", ref.position)
        allowed = _WHERE_DATASETS[target]
        if ref.dataset not in allowed:
            hint = (f"; to check the current user's {ref.name}, use IF CurrentUser.{ref.name}"
                    if ref.dataset == USERS else "")
            raise syntax_error(f"{target} filters can use {' and '.join(allowed)} fields, not "
                               f"{ref}{hint}", ref.position)

    def value_list(self, target: str | None, in_if: bool) -> tuple:
        if self.at_word(CURRENT_ITEM.upper()):
            return (self.current_item_ref(target, in_if),)
        self.expect_punct("(", "'(' and a list of values")
        values = [self.list_value()]
        while self.at_punct(","):
            self.advance()
            values.append(self.list_value())
        self.expect_punct(")", "',' or ')'")
        return tuple(values)

    def list_value(self):
        token = self.token
        if token.kind == lexer.STRING:
            self.advance()
            return Literal(token.text)
        if token.kind == lexer.NUMBER:
            self.advance()
            return Literal(token.text, is_number=True)
        if token.kind == lexer.PARAM:
            return self.param()
        raise self.unexpected('a value ("text", a number or a $PARAMETER)')

    def comparison_operand(self, target: str | None, in_if: bool):
        token = self.token
        if token.kind == lexer.NUMBER:
            self.advance()
            return Literal(token.text, is_number=True)
        if token.kind == lexer.PARAM:
            return self.param()
        if self.at_word(CURRENT_ITEM.upper()):
            return self.current_item_ref(target, in_if)
        if token.kind == lexer.STRING:
            raise syntax_error("comparison operators compare numbers; use IN (\"...\") to match "
                               "strings", token.position)
        raise self.unexpected("a number, a $PARAMETER or CurrentItem.FIELD")

    def param(self) -> Param:
        token = self.advance()
        if len(token.text) > MAX_PARAM_NAME_LENGTH:
            raise syntax_error(f"parameter names are at most {MAX_PARAM_NAME_LENGTH} characters",
                               token.position)
        return Param(token.text, token.position)

    def current_item_ref(self, target: str | None, in_if: bool) -> FieldRef:
        ref = self.field_ref()
        if in_if or target != ITEM_ID:
            raise syntax_error("CurrentItem can only be used in the WHERE condition of an ItemID "
                               "filter (for related-items recommendations)", ref.position)
        return ref

    def check_condition(self, condition: Condition, op_token: Token) -> None:
        ref = condition.field
        if ref.dataset in _EVENT_DATASETS:
            if ref.name != EVENT_TYPE:
                raise syntax_error(f"interactions can only be filtered by EVENT_TYPE, not {ref}",
                                   ref.position)
            if condition.operator not in (IN, NOT_IN):
                raise syntax_error(f"{ref} takes IN or NOT IN, not '{condition.operator}'",
                                   op_token.position)
        for operand in condition.operands:
            if isinstance(operand, Literal) and operand.text == WILDCARD and ref.dataset not in _EVENT_DATASETS:
                raise syntax_error('"*" can only be used with Interactions.EVENT_TYPE', ref.position)
            if isinstance(operand, Param) and condition.operator == NOT_IN:
                raise syntax_error(
                    f"placeholder ${operand.name} cannot be used with NOT IN; use IN with the "
                    f"opposite action (INCLUDE instead of EXCLUDE, or the reverse)",
                    operand.position)
            if isinstance(operand, FieldRef) and ref.dataset != ITEMS:
                raise syntax_error(f"CurrentItem fields can only be compared with Items fields, "
                                   f"not {ref}", operand.position)


def _conditions(node: Node):
    if isinstance(node, Condition):
        yield node
    else:
        for part in node.parts:
            yield from _conditions(part)


def _check_filter_limits(parsed: Filter) -> None:
    fields = parsed.dataset_fields()
    distinct = sum(len(names) for names in fields.values())
    if distinct > MAX_DISTINCT_FIELDS:
        listing = ", ".join(f"{d}.{n}" for d in sorted(fields) for n in sorted(fields[d]))
        raise InvalidInputException(
            f"Invalid filter expression: it uses {distinct} distinct dataset fields ({listing}); "
            f"a filter can use at most {MAX_DISTINCT_FIELDS}.")
    if len(parsed.placeholders) > MAX_PLACEHOLDERS:
        raise InvalidInputException(
            f"Invalid filter expression: it has {len(parsed.placeholders)} distinct placeholder "
            f"parameters; a request can fill at most {MAX_PLACEHOLDERS} (filterValues).")
