"""ASGI middleware capping the size of request bodies."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.problems import problem_response


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap; handled as a 413 problem.

    An ``HTTPException`` because FastAPI's body parsing lets only those through unchanged
    (anything else becomes a 400 "error parsing the body").
    """

    slug, title = "body-too-large", "Content Too Large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request bodies are limited to {max_bytes} bytes.")


class BodyLimitMiddleware:
    """Reject bodies over ``max_bytes`` with 413, by header or while streaming; paths
    matching ``unlimited`` (uploads, which enforce their own limits) pass."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, unlimited: re.Pattern[str] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.unlimited = unlimited

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)  # no frame of ours while a socket lives
        if self.unlimited is not None and self.unlimited.fullmatch(scope["path"]):
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _declared_length(scope) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        response = problem_response(
            error.status_code, slug=error.slug, title=error.title, detail=error.detail
        )
        await response(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
