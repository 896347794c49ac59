"""uvicorn's websockets-sansio protocol, trimmed per connection and with a bounded stall.

uvicorn's protocol keeps, for every open WebSocket, an `asyncio.Queue` and an `asyncio.Event`
(four deques of ~760 bytes each, though at most one coroutine ever waits on them) and the
handshake's request and response headers. This subclass swaps in a list-based inbox and a
flag that allocate only while someone waits, and drops the headers once the app has them
(the ASGI scope keeps its own copy), and compacts its instance dict: about 7 KB less per
idle connection.

It also bounds what a stalled client costs: the socket's kernel send buffer is fixed at
`SEND_BUFFER_BYTES` (Linux otherwise grows it up to `tcp_wmem`'s maximum, megabytes), so the
session's own send queue is what fills up and its slow-consumer close (4008) decides; and the
close frame is queued even while the transport is paused for back-pressure, so a client that
resumes reading gets the close code rather than a reset (a connection that still holds unsent
bytes `STALLED_CLOSE_SECONDS` after its close is aborted).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import weakref
from asyncio import BaseTransport
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

SEND_BUFFER_BYTES = 128 * 1024
"""SO_SNDBUF of each WebSocket socket (Linux doubles it for bookkeeping: 256 KiB)."""
STALLED_CLOSE_SECONDS = 60.0
"""How long a closed connection whose client does not read may hold unsent bytes."""


class _Waiters:
    """Futures parked until the next wake-up; a list made on first use, not a deque each."""

    __slots__ = ("_loop", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiters: list[asyncio.Future[None]] | None = None

    def _wake(self) -> None:
        if self._waiters:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiters = None

    async def _park(self) -> None:
        waiter = self._loop.create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


class _Inbox(_Waiters):
    """The subset of `asyncio.Queue` uvicorn uses (put_nowait, get, empty), for one reader."""

    __slots__ = ("_items",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._items: list[ASGIReceiveEvent] = []

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        self._wake()

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            await self._park()
        return self._items.pop(0)


class _Flag(_Waiters):
    """The subset of `asyncio.Event` uvicorn uses (set, clear, wait), without a deque each."""

    __slots__ = ("_set",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        self._wake()

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            await self._park()
        return True


class _KeepaliveWheel:
    """Every connection's next keepalive ping, in one-second slots under one timer per loop
    (uvicorn arms a timer per connection: ~500 bytes each in uvloop)."""

    TICK = 1.0

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._slots: dict[int, set[LeanWebSocketProtocol]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, conn: LeanWebSocketProtocol, delay: float) -> int:
        """Ping ``conn`` in about ``delay`` s (up to a tick later); returns its slot."""
        slot = math.ceil((self._loop.time() + delay) / self.TICK)
        self._slots.setdefault(slot, set()).add(conn)
        if self._timer is None:
            self._timer = self._loop.call_later(self.TICK, self._tick)
        return slot

    def remove(self, conn: LeanWebSocketProtocol, slot: int) -> None:
        """Forget ``conn``'s ping in ``slot``."""
        found = self._slots.get(slot)
        if found is not None:
            found.discard(conn)
            if not found:
                del self._slots[slot]

    def _tick(self) -> None:
        now = self._loop.time() / self.TICK
        for slot in sorted(s for s in self._slots if s <= now):
            for conn in self._slots.pop(slot):
                conn.wheel_ping()
        self._timer = self._loop.call_later(self.TICK, self._tick) if self._slots else None


_wheels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _KeepaliveWheel] = (
    weakref.WeakKeyDictionary()
)


def _wheel(loop: asyncio.AbstractEventLoop) -> _KeepaliveWheel:
    found = _wheels.get(loop)
    if found is None:
        found = _wheels[loop] = _KeepaliveWheel(loop)
    return found


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """`WebSocketsSansIOProtocol` with less kept per connection; pass it as uvicorn's ``ws``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox(self.loop)  # type: ignore[assignment]
        self.writable = _Flag(self.loop)  # type: ignore[assignment]
        self.ping_slot: int | None = None

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        self.stop_wheel()
        delay = max(0.0, self.ping_interval - self.last_ping_rtt)
        self.ping_slot = _wheel(self.loop).add(self, delay)

    def stop_keepalive(self) -> None:
        super().stop_keepalive()
        self.stop_wheel()

    def stop_wheel(self) -> None:
        """Take this connection's next ping off the wheel."""
        if self.ping_slot is not None:
            _wheel(self.loop).remove(self, self.ping_slot)
            self.ping_slot = None

    def wheel_ping(self) -> None:
        """The wheel's call: send the keepalive ping now (uvicorn arms the pong deadline)."""
        self.ping_slot = None
        self.send_keepalive_ping()

    def connection_made(self, transport: BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope holds the headers now; the parsed request stays referenced by the
        # websockets parser for the connection's life, so empty it rather than drop it.
        event.headers.clear()
        event.path = ""  # the request line: with the query string, a join token
        del self.request

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "websocket.close" and self._may_close_now():
            self._close_now(message.get("code", 1000), message.get("reason", "") or "")
            return
        if message["type"] == "websocket.send" and self.close_sent:
            # e.g. the keepalive timed out first: the socket is gone, not an app error
            # (uvicorn raises RuntimeError, which sessions log as a failure).
            raise ClientDisconnected()
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            del self.response  # sent; only the handshake reads it
            # uvicorn sets more attributes than an instance dict shares keys for (30), so
            # each connection has its own dict, grown to 1.6 KB; a copy is half that.
            self.__dict__ = dict(self.__dict__)

    def _may_close_now(self) -> bool:
        return (
            self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and self.initial_response is None
            and not self.transport.is_closing()
        )

    def _close_now(self, code: int, reason: str) -> None:
        # As uvicorn's close, minus waiting for the transport to become writable: the close
        # frame goes behind whatever is buffered, and an unread connection is aborted later.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        deadline = self.loop.time() + STALLED_CLOSE_SECONDS
        self.close_timer = self.loop.call_later(self.close_timeout, self._end, deadline)

    def _end(self, deadline: float) -> None:
        # The client has not answered the close. Once everything (close frame included) is
        # in the kernel, close: it still delivers it all if the client reads later. A client
        # that never reads would hold our buffer forever: abort at ``deadline``.
        self.close_timer = None
        if self.disconnected:
            return
        if self.transport.get_write_buffer_size() == 0:
            self.transport.close()
        elif self.loop.time() >= deadline:
            self.transport.abort()
        else:
            self.close_timer = self.loop.call_later(1.0, self._end, deadline)
