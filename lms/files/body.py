"""A tus chunk's body on its way into the staging file's ``Sink``: at most ``limit`` bytes
(``UploadTooLarge`` past it), ``ClientDisconnect`` if the connection drops.

``RequestBody`` takes the pieces straight from the HTTP parser when the server offers it
(``ops.body_tap``: no copies through uvicorn's buffer, no task switch per piece; the sink
pauses the socket's reading while its worker is behind) and otherwise reads Starlette's
``request.stream()``, as ``StreamBody`` does for any async iterable of bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Protocol

from starlette.requests import ClientDisconnect, Request

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


async def _pour_tapped(request: Request, tap: BodyTap, sink: Sink, limit: int) -> bool:
    """False when the body cannot be diverted (nothing read yet: use the stream)."""
    failure: Exception | None = None
    received = 0

    def take(piece: bytes) -> None:  # in the parser's callback: never raises
        nonlocal failure, received
        if failure is not None:
            return
        received += len(piece)
        try:
            if received > limit:
                raise UploadTooLarge(PAST_LENGTH)
            if sink.offer(piece):
                tap.pause()
                waiting = asyncio.ensure_future(sink.caught_up())
                waiting.add_done_callback(lambda _: tap.resume())
        except Exception as exc:  # the route raises it from receive() below
            failure = exc
            tap.wake()

    held = tap.divert(take)
    if held is None:
        return False
    take(held)
    while True:
        message = await request.receive()
        if failure is not None:
            raise failure
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message.get("body"):  # pragma: no cover - a diverted body never queues
            take(message["body"])
        if not message.get("more_body", False):
            break
    if failure is not None:
        raise failure
    return True
