"""A tus chunk's body on its way into the staging file's ``Sink``: at most ``limit`` bytes
(``UploadTooLarge`` past it), ``ClientDisconnect`` if the connection drops.

``RequestBody`` takes the pieces straight from the HTTP parser when the server offers it
(``ops.body_tap``: no copies through uvicorn's buffer, no task switch per piece; the sink
pauses the socket's reading while its worker is behind) and otherwise reads Starlette's
``request.stream()``, as ``StreamBody`` does for any async iterable of bytes. A body with a
``Content-Length`` on a plain-HTTP connection is read by a worker thread straight from the
socket instead (``lms.files.direct``), until it ends or stalls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Protocol

from starlette.requests import ClientDisconnect, Request

from lms.files import direct
from lms.files.errors import UploadTooLarge
from lms.files.sink import Sink
from ops.body_tap import EXTENSION, BodyTap

PAST_LENGTH = "The chunk goes past Upload-Length."


class Body(Protocol):
    """What ``Staging.append`` writes."""

    async def pour(self, sink: Sink, limit: int) -> None:
        """Hand every piece to ``sink`` (at most ``limit`` bytes), until the body ends."""


class StreamBody:
    """A body read from an async iterable of bytes."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks

    async def pour(self, sink: Sink, limit: int) -> None:
        """Each chunk to the sink, waiting while its worker is behind."""
        received = 0
        async for chunk in self.chunks:
            received += len(chunk)
            if received > limit:
                raise UploadTooLarge(PAST_LENGTH)
            await sink.add(chunk)


class RequestBody:
    """A request's body: diverted from the parser when possible, else its stream."""

    def __init__(self, request: Request) -> None:
        self.request = request

    async def pour(self, sink: Sink, limit: int) -> None:
        """The pieces from the parser (``ops.body_tap``), else from ``request.stream()``."""
        tap = self.request.scope.get("extensions", {}).get(EXTENSION)
        if not isinstance(tap, BodyTap) or not await _pour_tapped(self.request, tap, sink, limit):
            await StreamBody(self.request.stream()).pour(sink, limit)


class _Taker:
    """Takes a diverted body's pieces in the parser's callback (never raises): counts them
    against ``limit``, offers them to the sink and pauses the socket's reading while the
    sink's worker is behind; a failure is kept for the route to raise."""

    def __init__(self, tap: BodyTap, sink: Sink, limit: int) -> None:
        self.tap = tap
        self.sink = sink
        self.limit = limit
        self.received = 0
        self.failure: Exception | None = None

    def take(self, piece: bytes) -> None:
        if self.failure is not None:
            return
        self.received += len(piece)
        try:
            if self.received > self.limit:
                raise UploadTooLarge(PAST_LENGTH)
            if self.sink.offer(piece):
                self.tap.pause()
                waiting = asyncio.ensure_future(self.sink.caught_up())
                waiting.add_done_callback(lambda _: self.tap.resume())
        except Exception as exc:  # the route raises it from receive() below
            self.failure = exc
            self.tap.wake()


async def _pour_tapped(request: Request, tap: BodyTap, sink: Sink, limit: int) -> bool:
    """False when the body cannot be diverted (nothing read yet: use the stream)."""
    taker = _Taker(tap, sink, limit)
    detached = tap.detach(limit) if direct.available() else None
    if detached is not None:
        try:
            result = await direct.read(detached, sink)
        except BaseException:  # cancelled: the parser lost count of the body
            tap.close()
            raise
        if result.outcome is direct.Outcome.DONE:
            tap.complete()
            return True
        if result.outcome is direct.Outcome.ENDED:
            tap.close()
            raise ClientDisconnect()
        taker.received = len(detached.held) + result.read
        taker.failure = result.error
        tap.give_back(result.read, taker.take)  # stalled: the event loop reads the rest
    else:
        held = tap.divert(taker.take)
        if held is None:
            return False
        taker.take(held)
    while True:
        if taker.failure is not None:
            raise taker.failure
        message = await request.receive()
        if taker.failure is not None:
            raise taker.failure
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message.get("body"):  # pragma: no cover - a diverted body never queues
            taker.take(message["body"])
        if not message.get("more_body", False):
            break
    if taker.failure is not None:
        raise taker.failure
    return True
