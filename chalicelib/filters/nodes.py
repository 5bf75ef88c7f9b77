"""The parsed form of a filter expression, and what the server needs to know about it.

A filter is a list of expressions joined by '|'. AWS combines them as
(union of the INCLUDE expressions) minus (union of the EXCLUDE expressions); order does
not matter. Each expression has a WHERE condition over one dataset and an optional IF
condition over the current user.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

INCLUDE, EXCLUDE = "INCLUDE", "EXCLUDE"
ITEM_ID, USER_ID, ACTION_ID = "ItemID", "UserID", "ActionID"

# Dataset names as written in expressions (canonical spelling; input is case-insensitive).
ITEMS, USERS, INTERACTIONS = "Items", "Users", "Interactions"
ACTIONS, ACTION_INTERACTIONS = "Actions", "Action_Interactions"
CURRENT_ITEM, CURRENT_USER = "CurrentItem", "CurrentUser"

IN, NOT_IN = "IN", "NOT IN"
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
AND, OR = "AND", "OR"


@dataclass(frozen=True)
class FieldRef:
    dataset: str    # Items, Users, Interactions, Actions, Action_Interactions, CurrentItem, CurrentUser
    name: str       # upper-cased, as our tables name fields
    position: int

    def __str__(self) -> str:
        return f"{self.dataset}.{self.name}"


@dataclass(frozen=True)
class Literal:
    text: str                  # the value as a string (numbers keep their source text)
    is_number: bool = False


@dataclass(frozen=True)
class Param:
    name: str                  # without '$'; case-sensitive, as filterValues keys are
    position: int


Operand = Union[Literal, Param, FieldRef]   # FieldRef only for CurrentItem.X


@dataclass(frozen=True)
class Condition:
    field: FieldRef
    operator: str              # IN, NOT IN or one of COMPARISONS
    operands: tuple[Operand, ...]


@dataclass(frozen=True)
class Junction:
    operator: str              # AND or OR
    parts: tuple["Node", ...]


Node = Union[Condition, Junction]


def conditions_of(node: Node | None):
    if node is None:
        return
    if isinstance(node, Condition):
        yield node
    else:
        for part in node.parts:
            yield from conditions_of(part)


@dataclass(frozen=True)
class Expression:
    action: str                # INCLUDE or EXCLUDE
    target: str                # ItemID, UserID or ActionID
    where: Node
    if_user: Node | None       # conditions on CurrentUser, or None
    dataset: str               # the dataset every WHERE condition uses
    position: int

    def conditions(self):
        yield from conditions_of(self.where)
        yield from conditions_of(self.if_user)

    def placeholders(self) -> list[str]:
        names: list[str] = []
        for condition in self.conditions():
            for operand in condition.operands:
                if isinstance(operand, Param) and operand.name not in names:
                    names.append(operand.name)
        return names


# Which dataset a CurrentItem/CurrentUser reference reads its field from.
_CONTEXT_DATASET = {CURRENT_USER: USERS}


@dataclass
class Filter:
    expression: str
    expressions: list[Expression] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.expressions[0].target

    @property
    def placeholders(self) -> list[str]:
        names: list[str] = []
        for expression in self.expressions:
            names += [n for n in expression.placeholders() if n not in names]
        return names

    @property
    def uses_interactions(self) -> bool:
        return any(e.dataset in (INTERACTIONS, ACTION_INTERACTIONS) for e in self.expressions)

    @property
    def uses_users(self) -> bool:
        """True when evaluation needs the current user's metadata (an IF condition)."""
        return any(e.if_user is not None for e in self.expressions)

    @property
    def uses_current_item(self) -> bool:
        return any(isinstance(o, FieldRef) and o.dataset == CURRENT_ITEM
                   for e in self.expressions for c in e.conditions() for o in c.operands)

    def dataset_fields(self) -> dict[str, set[str]]:
        """Every dataset field the filter reads, e.g. {"Items": {"GENRE"}, "Users": {"AGE"}},
        so CreateFilter can check them against the dataset group's schemas. CurrentItem
        fields belong to the items (or actions) dataset, CurrentUser fields to Users."""
        fields: dict[str, set[str]] = {}
        for expression in self.expressions:
            for condition in expression.conditions():
                refs = [condition.field] + [o for o in condition.operands if isinstance(o, FieldRef)]
                for ref in refs:
                    dataset = _CONTEXT_DATASET.get(ref.dataset, ref.dataset)
                    if dataset == CURRENT_ITEM:
                        dataset = ACTIONS if expression.target == ACTION_ID else ITEMS
                    fields.setdefault(dataset, set()).add(ref.name)
        return fields

    def mask(self, context, values: dict[str, str] | None = None) -> np.ndarray:
        """Boolean array aligned with context.item_ids: True = may be recommended.
        `context` is a chalicelib.filters.masks.FilterContext, which evaluates (masks
        imports this module, so the dependency points that way only)."""
        return context.evaluate(self, values or {})
