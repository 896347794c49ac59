"""Guards on the private internals of pinned libraries that liveclass subclasses or patches.

What: ``require_source`` and ``require_attributes`` check that a class or function still
has a line or a private name we rely on; ``check_uvicorn`` applies them to the uvicorn
protocols liveclass subclasses (``ops.server_protocol``'s HTTP protocol, and the WebSocket
protocol of ``realtime.ws_protocol``, whose inbox, flag and keepalive wheel replace
uvicorn's ``queue``, ``writable`` and ping timer). The media fast path
(``media.fastpath.check``) uses the same guards on aiortc, aioice and pylibsrtp.
Why: those versions are pinned to a minor range in pyproject.toml, and a release that
changes one of these lines fails loudly at start-up (and in the unit tests) instead of
misbehaving with connections open. The figure it protects: realtime.ws_protocol's ~7 KB
less per idle WebSocket, part of the 23.5 KB per idle connection at 5,000 connections
(docs/benchmarks.md, target < 30 KB).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable
from typing import Any


@functools.cache
def _source(code: Any) -> str:
    return inspect.getsource(code)


def require_source(code: Any, needles: Iterable[str]) -> None:
    """Raise unless the source of ``code`` (a class or function, read once) has each needle."""
    source = _source(code)
    for needle in needles:
        if needle not in source:
            raise RuntimeError(f"{code.__module__}.{code.__qualname__} no longer does {needle!r}")


def require_attributes(instance: object, names: Iterable[str]) -> None:
    """Raise unless ``instance`` has every one of ``names``."""
    owner = instance if isinstance(instance, type) else type(instance)
    for name in names:
        if not hasattr(instance, name):
            raise RuntimeError(f"{owner.__qualname__}.{name} is gone")


WEBSOCKET_SOURCE = (
    "self.queue: asyncio.Queue[ASGIReceiveEvent] = asyncio.Queue()",
    "await self.queue.get()",
    "self.queue.put_nowait(",
    "self.writable = asyncio.Event()",
    "await self.writable.wait()",
    "self.writable.clear()",
    "delay = max(0.0, self.ping_interval - self.last_ping_rtt)",
    "self.ping_timer = self.loop.call_later(delay, self.send_keepalive_ping)",
    "self.request = event",
    "self.response = self.conn.accept(event)",
    "self.conn.send_close(code, reason)",
    "self.close_sent = True",
    "self.close_timer = self.loop.call_later(self.close_timeout, self.transport.close)",
    "self.read_paused = True",
)
WEBSOCKET_METHODS = (
    "connection_made",
    "handle_connect",
    "send",
    "start_keepalive",
    "schedule_ping",
    "stop_keepalive",
    "send_keepalive_ping",
)
HTTP_SOURCE = (
    "self.send_400_response(msg)",
    "def send_400_response(self, msg: str) -> None:",
    "self.server_state.default_headers",
    # ops.server_protocol's fast path: which app a request gets, and the pipeline
    "app = self.app",
    "self._start_asgi_task(self.cycle, app)",
    "self.pipeline.appendleft((self.cycle, app))",
    "cycle, app = self.pipeline.pop()",
    "self._start_asgi_task(cycle, app)",
    "def _unset_keepalive_if_required(self) -> None:",
    "def handle_websocket_upgrade(self) -> None:",
)
HTTP_CYCLE_SOURCE = (
    "self.on_response = on_response",
    "self.disconnected = False",
    "self.keep_alive = keep_alive",
    "self.response_started = False",
    "self.response_complete = False",
    "self.message_event = message_event",
)


def check_uvicorn() -> None:
    """Fail loudly if the uvicorn internals our protocol subclasses override have changed."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    require_source(WebSocketsSansIOProtocol, WEBSOCKET_SOURCE)
    require_attributes(WebSocketsSansIOProtocol, WEBSOCKET_METHODS)
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        return
    require_source(HttpToolsProtocol, HTTP_SOURCE)
    require_source(RequestResponseCycle, HTTP_CYCLE_SOURCE)
