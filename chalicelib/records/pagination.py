"""nextToken / maxResults as the List* operations use them (boto3 paginators follow it)."""
from __future__ import annotations

import base64
import json

from chalicelib.errors import InvalidNextTokenException

DEFAULT_PAGE = 100


def page(items: list, next_token: str | None, max_results: int | None,
         default: int = DEFAULT_PAGE) -> tuple[list, str | None]:
    start = _offset(next_token) if next_token else 0
    size = max_results or default
    chunk = items[start:start + size]
    more = start + size < len(items)
    return chunk, (_token(start + size) if more else None)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError):
        pass
    raise InvalidNextTokenException("The next token is not valid.")
