"""ASGI middleware: request id, access log, metrics and ``nosniff`` for every HTTP request."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Iterable

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
            request_id_var.set(request_id(scope["headers"]))
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        this_id = request_id(scope["headers"])
        token = request_id_var.set(this_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = with_nosniff(list(message.get("headers", [])))
                headers.append((HEADER, this_id.encode()))
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
        client = scope.get("client")
        record(
            self.metrics,
            route=_route_template(scope),
            method=scope["method"],
            path=scope["path"],
            status=status,
            seconds=seconds,
            client=client[0] if client else None,
        )


def request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's id: a sane ``X-Request-ID`` it brought, or a new random one (16 hex
    digits). An id must be unique, not secret, so it comes from ``random``, seeded from the
    system at start-up, rather than a system call per request (``secrets``)."""
    for name, value in headers:
        if name == HEADER:
            text = value.decode("latin-1")
            if _VALID_ID.match(text):
                return text
            break
    return f"{random.getrandbits(64):016x}"


def record(
    metrics: Metrics,
    *,
    route: str,
    method: str,
    path: str,
    status: int,
    seconds: float,
    client: str | None,
    request_id: str | None = None,
) -> None:
    """Count a finished request and write its access-log line (also used by the byte-serving
    fast path, ``ops.fastpath``, for the requests the app never sees; it names the request
    id, which the app's requests carry in ``request_id_var``)."""
    metrics.observe(route=route, method=method, status=status, seconds=seconds)
    if not logger.isEnabledFor(logging.INFO):
        return
    extra: dict[str, object] = {
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": client,
    }
    if request_id is not None:
        extra["request_id"] = request_id
    # ``logger.info`` less its search of the stack for the calling line (``findCaller``, a
    # few frames and path normalisations per request), which no log format here shows.
    logger.handle(
        logger.makeRecord(
            logger.name,
            logging.INFO,
            "(unknown file)",
            0,
            "%s %s %s",
            (method, path, status),
            None,
            extra=extra,
        )
    )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if isinstance(route, BaseRoute) and hasattr(route, "path"):
        return str(route.path)
    return "unmatched"
