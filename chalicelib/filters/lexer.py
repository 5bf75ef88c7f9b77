"""Tokens of the Amazon Personalize filter expression language.

Words (INCLUDE, ItemID, Items, GENRE, ...) are all WORD tokens; the parser decides what a
word means from where it stands, so a field may share its name with a keyword. Every token
keeps its offset in the expression so error messages can point at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import InvalidInputException

WORD = "WORD"
STRING = "STRING"
NUMBER = "NUMBER"
PARAM = "PARAM"
OPERATOR = "OPERATOR"
PUNCT = "PUNCT"   # . ( ) , |
END = "END"

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARAM_NAME = re.compile(r"[A-Za-z0-9_]+")
_OPERATORS = ("<=", ">=", "!=", "=", "<", ">")
_PUNCTUATION = ".(),|"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str       # for STRING: the unquoted value; for PARAM: the name without '$'
    position: int   # 0-based offset of the token's first character

    def describe(self) -> str:
        if self.kind == END:
            return "the end of the expression"
        if self.kind == STRING:
            return f'"{self.text}"'
        if self.kind == PARAM:
            return f"${self.text}"
        return f"'{self.text}'"


def syntax_error(message: str, position: int) -> InvalidInputException:
    return InvalidInputException(f"Invalid filter expression at position {position}: {message}.")


def tokenize(expression: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            value, i_next = _read_string(expression, i)
            tokens.append(Token(STRING, value, i))
            i = i_next
        elif ch == "'":
            raise syntax_error("string values must be in double quotes (\"value\"), not single quotes", i)
        elif ch == "$":
            match = _PARAM_NAME.match(expression, i + 1)
            if not match:
                raise syntax_error("'$' must be followed by a parameter name of letters, digits or '_'", i)
            tokens.append(Token(PARAM, match.group(), i))
            i = match.end()
        elif ch.isdigit() or (ch in "-." and _NUMBER.match(expression, i)):
            match = _NUMBER.match(expression, i)
            tokens.append(Token(NUMBER, match.group(), i))
            i = match.end()
        elif ch.isalpha() or ch == "_":
            match = _WORD.match(expression, i)
            tokens.append(Token(WORD, match.group(), i))
            i = match.end()
        elif ch in _PUNCTUATION:
            tokens.append(Token(PUNCT, ch, i))
            i += 1
        else:
            operator = next((op for op in _OPERATORS if expression.startswith(op, i)), None)
            if operator is None:
                raise syntax_error(f"unexpected character '{ch}'", i)
            tokens.append(Token(OPERATOR, operator, i))
            i += len(operator)
    tokens.append(Token(END, "", n))
    return tokens


def _read_string(expression: str, start: int) -> tuple[str, int]:
    """A double-quoted value; backslash escapes the next character so values may hold '"'."""
    out: list[str] = []
    i = start + 1
    while i < len(expression):
        ch = expression[i]
        if ch == "\\" and i + 1 < len(expression):
            out.append(expression[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise syntax_error("unterminated string (missing closing '\"')", start)
