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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ops.internals import require_source

EXTENSION = "liveclass.body_tap"
PROTOCOL_SOURCE = (
    "def on_body(self, body: bytes) -> None:",
    "self.cycle.body += body",
    "self.flow.pause_reading()",
    "def on_message_complete(self) -> None:",
    "self.cycle.more_body = False",
)
CYCLE_SOURCE = (
    "self.body = bytearray()",
    "self.more_body = True",
    "self.flow = flow",
    "self.flow.resume_reading()",
    "await self.message_event.wait()",
    '"body": bytes(self.body)',
)


def check(protocol_class: type, cycle_class: type) -> None:
    """Fail loudly (at start-up) if uvicorn's body handling this module relies on changed."""
    require_source(protocol_class, PROTOCOL_SOURCE)
    require_source(cycle_class, CYCLE_SOURCE)


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
    if has_body:
        protocol.scope.setdefault("extensions", {})[EXTENSION] = BodyTap(protocol, protocol.scope)


def taken(protocol: Any, body: bytes) -> bool:
    """In ``on_body``: hand ``body`` to the diverting route; False: uvicorn queues it."""
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
