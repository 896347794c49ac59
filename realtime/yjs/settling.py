"""Cluster-wide settle: wait until every node holding a document has stored the edits it has
received, so a snapshot read from the database (a page being published) holds them all.

A node stores an update before publishing it to the others, but an update it has received
and not yet stored (queued behind a commit) is only on that node. The asking node publishes
`SETTLE + request id` on the document's broker channel, after subscribing to it itself; the
broker says how many nodes the publication reached (`Publication.receivers`, one Redis
subscription per node). Each of them, holding the document live or not, waits for the writes
it had received (`LiveDocument.stored`) and answers `SETTLED + request id` on the channel.
The asker waits for that many distinct nodes, within a bounded time; a node unsubscribing
while the request travels may drop it unanswered, so a short second request follows before
giving up with `DocumentNotSettledError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from realtime.connection import Frame
from realtime.errors import BrokerUnavailableError
from realtime.hub import Hub
from realtime.yjs.document import LiveDocument
from realtime.yjs.publication import SETTLE, SETTLED, channel_of, encode_publication

logger = logging.getLogger("liveclass.documents")


class DocumentNotSettledError(BrokerUnavailableError):
    """A node holding the document did not confirm in time that it stored its editors' edits
    (or the broker could not tell which nodes hold it); try again shortly."""

    default_reason = "could not confirm every node stored the document's edits; try again"


class _Sink:
    """The asker's membership of the channel while it waits (it hears the answers)."""

    def offer(self, frame: Frame) -> bool:
        return True


@dataclass
class _Waiting:
    """One request's answers: the nodes that answered, and how many the broker reached."""

    answered: set[str] = field(default_factory=set)
    expected: int | None = None
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def check(self) -> None:
        if self.expected is not None and len(self.answered) >= self.expected:
            self.complete.set()


class Settling:
    """This node's side of cluster-wide settles: asking, answering, and collecting answers."""

    def __init__(
        self, *, hub: Hub, node_id: str, document_of: Callable[[str], LiveDocument | None]
    ) -> None:
        self.hub = hub
        self.node_id = node_id
        self.document_of = document_of
        self._waiting: dict[bytes, _Waiting] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.answered = 0
        self.timeouts = 0

    async def settle(self, name: str, *, within: float) -> None:
        """Return once every node holding `name` has stored the edits it had received when
        asked; raises `DocumentNotSettledError` after about `within` seconds otherwise."""
        missing = await self._ask(name, within * 0.75)
        if missing:
            logger.warning("%d node(s) did not answer a settle of %s; asking again", missing, name)
            missing = await self._ask(name, within * 0.25)
        if missing:
            self.timeouts += 1
            raise DocumentNotSettledError(
                f"{missing} node(s) holding the document did not confirm within {within:g} s"
            )

    async def _ask(self, name: str, within: float) -> int:
        """One request: how many of the nodes it reached did not answer within `within` seconds."""
        request = secrets.token_bytes(12)
        waiting = self._waiting[request] = _Waiting()
        channel, sink = channel_of(name), _Sink()
        try:
            await self.hub.join(channel, sink)  # first: the answers come on this channel
            payload = encode_publication(self.node_id, 0, SETTLE + request)
            publication = await self.hub.publish(channel, payload)
            if publication.receivers is None:
                raise DocumentNotSettledError("the broker cannot tell which nodes hold it")
            waiting.expected = publication.receivers
            waiting.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting.complete.wait(), within)
            return max(0, waiting.expected - len(waiting.answered))
        finally:
            del self._waiting[request]
            self.hub.leave(channel, sink)

    def observe(self, name: str, node: str, frame: bytes) -> bool:
        """Hub hook (through the registry): handle a settle request or answer; False for any
        other frame. Called for every publication on a channel this node subscribes to,
        whether or not it holds the document now."""
        if frame[:1] == SETTLE:
            task = asyncio.get_running_loop().create_task(self._answer(name, frame[1:]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return True
        if frame[:1] == SETTLED:
            waiting = self._waiting.get(frame[1:])
            if waiting is not None:
                waiting.answered.add(node)
                waiting.check()
            return True
        return False

    async def _answer(self, name: str, request: bytes) -> None:
        document = self.document_of(name)
        if document is not None:
            await document.stored()
        payload = encode_publication(self.node_id, 0, SETTLED + request)
        try:
            await self.hub.publish(channel_of(name), payload)
            self.answered += 1
        except BrokerUnavailableError:
            logger.warning("broker unavailable: a settle of %s was not answered", name)
