"""ASGI middleware: request id, access log, metrics and ``nosniff`` for every HTTP request."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.context import request_id_var
from ops.headers import with_nosniff
from ops.metrics import Metrics
from ops.problems import internal_error

logger = logging.getLogger("liveclass.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Give every request an id (honouring a sane ``X-Request-ID``), log it, measure it, and
    mark every response ``X-Content-Type-Options: nosniff`` (ops.headers)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # WebSockets and lifespan go straight through, without a coroutine frame of this
        # middleware living as long as the socket; a WebSocket's task gets its request id.
        if scope["type"] == "websocket":
            request_id_var.set(_incoming_id(scope) or secrets.token_hex(8))
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _incoming_id(scope) or secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = with_nosniff(list(message.get("headers", [])))
                headers.append((HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answer here rather than in Starlette's outermost error middleware, so that the
            # 500 still carries the request id (header, body and log line).
            if responded:
                raise
            await internal_error(exc)(scope, receive, send_with_id)
        finally:
            self._finish(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _finish(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        method = scope["method"]
        self.metrics.observe(route=route, method=method, status=status, seconds=seconds)
        client = scope.get("client")
        logger.info(
            "%s %s %s",
            method,
            scope["path"],
            status,
            extra={
                "method": method,
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
            },
        )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = value.decode("latin-1")
            return text if _VALID_ID.match(text) else None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if isinstance(route, BaseRoute) and hasattr(route, "path"):
        return str(route.path)
    return "unmatched"
