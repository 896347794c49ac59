"""Refuse NUL characters in request text, the same way whatever the database.

PostgreSQL cannot store U+0000 in text (or JSON) and fails the statement; SQLite stores it.
So that a request means the same thing on both, a NUL anywhere in a request's text -- a
JSON or form body, the query string, the path -- is refused here, before any route, with
the usual 422 validation problem naming the field (``body.name``, ``query.q``). One
middleware rather than a validator on every schema: no field, today's or a future one, can
be forgotten.

JSON carries a NUL only as the escape ``\\u0000`` (a raw control character is invalid
JSON), and a form or query string only as ``%00``: a body without those bytes is passed on
without being parsed twice. Other bodies (SDP offers, uploads) are not text fields and pass
untouched, streamed as before.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.problems import http_problem, validation_problem

NUL = "\x00"
MESSAGE = "NUL characters (U+0000) are not allowed"


class RefuseNulMiddleware:
    """422 for a NUL character in a request's path, query string, or JSON or form body.

    Install it inside ``BodyLimitMiddleware``: it reads a JSON or form body whole before the
    route does (FastAPI would too), so the size cap must already apply.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)  # no frame of ours while a socket lives
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = _in_path_or_query(scope)
        if field is None and (kind := _text_body(scope)) is not None:
            try:
                messages, body = await _read(receive)
            except HTTPException as exc:  # the body passed the size cap (ops.limits)
                await http_problem(exc)(scope, receive, send)
                return
            field = _in_body(kind, body)
            receive = _replay(messages, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        error = {"field": field, "message": MESSAGE}
        await validation_problem([error])(scope, receive, send)


def _in_path_or_query(scope: Scope) -> str | None:
    if NUL in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return _in_pairs("query", query.decode("latin-1"))
    return None


def _text_body(scope: Scope) -> str | None:
    """``json`` or ``form`` for a body of text fields, else None."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            if media == b"application/json" or media.endswith(b"+json"):
                return "json"
            if media == b"application/x-www-form-urlencoded":
                return "form"
            return None
    return None


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    """Every message of the request body, and the body."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` giving the messages already read, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _in_body(kind: str, body: bytes) -> str | None:
    if kind == "form":
        if b"%00" in body or b"\x00" in body:
            return _in_pairs("body", body.decode("utf-8", errors="replace"))
        return None
    if b"\\u0000" not in body:
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # the route reports invalid JSON as it always does
    return find_nul(document, ("body",))


def _in_pairs(where: str, text: str) -> str:
    for name, value in parse_qsl(text, keep_blank_values=True):
        if NUL in name:
            return where
        if NUL in value:
            return f"{where}.{name}"
    return where


def find_nul(document: Any, location: tuple[str, ...] = ()) -> str | None:
    """Where (``body.a.0.b``, below ``location``) a decoded JSON document holds a string with
    a NUL, keys included; None if nowhere. The room channel's messages use it too."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, location)]
    while stack:  # not recursive: JSON may nest deeper than Python's recursion limit
        value, location = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return ".".join(location) or "message"
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in key:
                    return ".".join(location) or "message"
                stack.append((item, (*location, key)))
        elif isinstance(value, list):
            stack.extend((item, (*location, str(i))) for i, item in enumerate(value))
    return None
