"""A request body handed piece by piece to a callback straight from the HTTP parser, for a
route that streams large bodies somewhere (a tus upload's chunk into its staging file).

What: ``ops.server_protocol``'s protocol offers a ``BodyTap`` in the scope's extensions
(``scope["extensions"][EXTENSION]``) of every request with a body. A route that wants the
body's pieces calls ``divert(take)``: from then on the parser's ``on_body`` calls
``take(piece)`` with the very bytes object the event loop read, and the route only awaits
``receive()`` for the end of the body (``more_body`` false) or ``http.disconnect``.
Without a diversion nothing changes: uvicorn queues the body for ``receive()`` as always.

Why: through ASGI each ~250 KiB piece the loop reads is copied into uvicorn's buffer and
copied out of it again, and wakes the route's task (reading is paused and resumed around
each piece, the message dict built, Starlette's stream generator resumed). For an upload
that is most of the event loop's work per byte (docs/benchmarks.md, "Content: uploads").
``take`` runs inside the parser's callback: it must not raise or block; it may ``pause()``
reading (flow control) and ``resume()`` it later, and ``wake()`` the route's ``receive()``
(to refuse the body early).

A route may go further and ``detach()`` the rest of a body whose length is known (plain
HTTP, ``Content-Length``): the socket's reading by the event loop pauses, and a worker thread
reads the body's remaining bytes from a duplicate of the socket's descriptor itself
(``lms.files.direct``: no parser, no bytes object per piece, no event-loop work per byte).
Afterwards the route hands the connection back: ``complete()`` when every byte was read (a
fresh parser waits for the next request, which the thread never reads past), ``give_back()``
when it stopped early (the parser skips the bytes the thread took, the rest goes to ``take``
as above), or ``close()`` (the client left).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httptools

from ops.internals import require_source

EXTENSION = "liveclass.body_tap"
PROTOCOL_SOURCE = (
    "def on_body(self, body: bytes) -> None:",
    "self.cycle.body += body",
    "self.flow.pause_reading()",
    "def on_message_complete(self) -> None:",
    "self.parser = httptools.HttpRequestParser(self)",
    "self.parser.set_dangerous_leniencies(lenient_data_after_close=True)",
    "self.cycle.more_body = False",
)
CYCLE_SOURCE = (
    "self.body = bytearray()",
    "self.more_body = True",
    "self.flow = flow",
    "self.flow.resume_reading()",
    "await self.message_event.wait()",
    '"body": bytes(self.body)',
    "self.waiting_for_100_continue = expect_100_continue",
)


def check(protocol_class: type, cycle_class: type) -> None:
    """Fail loudly (at start-up) if uvicorn's body handling this module relies on changed."""
    require_source(protocol_class, PROTOCOL_SOURCE)
    require_source(cycle_class, CYCLE_SOURCE)


_SKIP = bytes(1 << 20)
"""Stands for body bytes a worker thread read, fed to the parser so it counts them."""


def _drop(piece: bytes) -> None:
    """The parser's body pieces that stand for bytes read elsewhere."""


@dataclass
class Detached:
    """The rest of a body for a worker thread to read: ``fd`` (a duplicate of the socket's
    descriptor, the caller closes it), ``count`` bytes still to come after ``held``."""

    fd: int
    count: int
    held: bytes


class BodyTap:
    """One request's offer of its body's pieces (see the module's docstring)."""

    __slots__ = ("_protocol", "_scope")

    def __init__(self, protocol: Any, scope: dict[str, Any]) -> None:
        self._protocol = protocol
        self._scope = scope

    def divert(self, take: Callable[[bytes], None]) -> bytes | None:
        """Send the rest of the body to ``take``; return what uvicorn had already queued
        for ``receive()``. None when the body cannot be diverted (its end was parsed, or
        the connection's current request is another one): use ``receive()``."""
        protocol = self._protocol
        cycle = protocol.cycle
        if cycle is None or cycle.scope is not self._scope or not cycle.more_body:
            return None
        if cycle.disconnected or cycle.response_complete:
            return None
        held = bytes(cycle.body)
        cycle.body = bytearray()
        protocol.body_taken = (cycle, take)
        return held

    def detach(self, limit: int) -> Detached | None:
        """Stop the event loop's reading of this body and hand its rest to the caller
        (module docstring). None when it cannot: under TLS, without ``Content-Length``,
        longer than ``limit``, waiting for a ``100 Continue``, or once its end was parsed."""
        protocol = self._protocol
        cycle = protocol.cycle
        length = getattr(protocol, "body_length", None)
        if cycle is None or cycle.scope is not self._scope or not cycle.more_body:
            return None
        if cycle.disconnected or cycle.response_complete or cycle.waiting_for_100_continue:
            return None
        if length is None or length > limit or protocol.transport.is_closing():
            return None
        if protocol.transport.get_extra_info("sslcontext") is not None:
            return None
        sock = protocol.transport.get_extra_info("socket")
        count = length - protocol.body_seen
        if sock is None or count <= 0:
            return None
        protocol.flow.pause_reading()
        held = bytes(cycle.body)
        cycle.body = bytearray()
        protocol.body_taken = (cycle, _drop)
        return Detached(os.dup(sock.fileno()), count, held)

    def complete(self) -> None:
        """After ``detach()``: the body's every byte was read. The request's body ends, a
        fresh parser waits for the connection's next request, reading resumes."""
        protocol = self._protocol
        if protocol.transport.is_closing():
            return
        protocol.parser = parser = httptools.HttpRequestParser(protocol)
        parser.set_dangerous_leniencies(lenient_data_after_close=True)
        protocol.on_message_complete()
        protocol.flow.resume_reading()

    def give_back(self, read: int, take: Callable[[bytes], None]) -> None:
        """After ``detach()``: ``read`` more bytes were read; the parser skips them (it
        counts the body's bytes) and the rest of the body goes to ``take``."""
        protocol = self._protocol
        cycle = protocol.cycle
        if protocol.transport.is_closing() or cycle is None or cycle.scope is not self._scope:
            return
        protocol.body_taken = (cycle, _drop)
        while read > 0:
            step = min(read, len(_SKIP))
            protocol.parser.feed_data(memoryview(_SKIP)[:step])
            read -= step
        if protocol.body_taken is not None:  # the skipped bytes cannot end the body
            protocol.body_taken = (cycle, take)
        protocol.flow.resume_reading()

    def close(self) -> None:
        """After ``detach()``: the client left (or the parser cannot be trusted)."""
        self._protocol.transport.close()

    def pause(self) -> None:
        """Stop reading the socket (the receiver is behind)."""
        self._protocol.flow.pause_reading()

    def resume(self) -> None:
        """Read the socket again (unless the body ended meanwhile: uvicorn resumes it
        once the answer is sent)."""
        diverted = self._protocol.body_taken
        if diverted is not None and diverted[0].scope is self._scope:
            self._protocol.flow.resume_reading()

    def wake(self) -> None:
        """Make the route's pending ``receive()`` return (an empty piece, more to come)."""
        cycle = self._protocol.cycle
        if cycle is not None and cycle.scope is self._scope:
            cycle.message_event.set()


def offer(protocol: Any, has_body: bool) -> None:
    """In ``on_headers_complete``, before uvicorn builds the request's cycle: offer the tap
    of a request with a body."""
    protocol.body_taken = None
    protocol.body_seen = 0
    protocol.body_length = None
    if has_body:
        protocol.body_length = _content_length(protocol.headers)
        protocol.scope.setdefault("extensions", {})[EXTENSION] = BodyTap(protocol, protocol.scope)


def taken(protocol: Any, body: bytes) -> bool:
    """In ``on_body``: hand ``body`` to the diverting route; False: uvicorn queues it."""
    protocol.body_seen += len(body)
    diverted = getattr(protocol, "body_taken", None)
    if diverted is None:
        return False
    cycle, take = diverted
    if cycle is not protocol.cycle or cycle.response_complete:
        protocol.body_taken = None
        return False
    take(body)
    return True


def finished(protocol: Any) -> None:
    """In ``on_message_complete``: the diversion ends with the body."""
    protocol.body_taken = None


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The body's declared length; None when chunked or not one plain number."""
    length = None
    for name, value in headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return None
            length = int(value)
    return length
