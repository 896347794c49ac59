"""Opaque cursors for keyset-paginated lists: `next` in the body and a `Link: rel="next"`.

A cursor is the last row's sort key, base64url-encoded so clients treat it as opaque and the
key can change shape later without breaking them.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from starlette.requests import Request
from starlette.responses import Response

from lms.errors import InvalidInput

MAX_CURSOR = 2**62


def encode_cursor(last_id: int) -> str:
    """The cursor that continues after the row with id `last_id`."""
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The row id a cursor continues after; a cursor we did not make is a 422."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        last_id = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The cursor is not one this server made.") from None
    if prefix != "id" or not 0 < last_id < MAX_CURSOR:
        raise InvalidInput("The cursor is not one this server made.")
    return last_id


def encode_key_cursor(key: uuid.UUID) -> str:
    """The cursor that continues after the row whose (UUID) sort key is `key`."""
    return base64.urlsafe_b64encode(f"key:{key}".encode()).decode().rstrip("=")


def decode_key_cursor(cursor: str | None) -> uuid.UUID | None:
    """The UUID sort key a cursor continues after; a cursor we did not make is a 422."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        key = uuid.UUID(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The cursor is not one this server made.") from None
    if prefix != "key":
        raise InvalidInput("The cursor is not one this server made.")
    return key


def link_next(request: Request, response: Response, cursor: str | None) -> None:
    """Set `Link: <…?cursor=…>; rel="next"` when there is a next page."""
    if cursor is not None:
        url = request.url.include_query_params(cursor=cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
