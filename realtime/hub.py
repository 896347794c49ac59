"""`Hub`: this node's channel memberships and the fan-out of publications to local connections.

Publishing always goes through the broker; local delivery happens in the broker subscription
handler, so one node and many nodes behave the same. One broker subscription per channel per node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine
from typing import Any, Protocol, TypeAlias

from .broker import Broker, Publication, StreamPosition
from .connection import Frame
from .recovery import Recovered, RecoveryOutcome, recover


class Outbound(Protocol):
    """Anything that accepts frames without waiting, such as a `ConnectionWriter`."""

    def offer(self, frame: Frame) -> bool:
        """Queue `frame`; False if refused (closed, or the client is too slow)."""
        ...


Render: TypeAlias = Callable[[Publication], Frame]
"""Turns a publication into the frame clients get; called once per publication per node."""


Observe: TypeAlias = Callable[[Publication], None]
"""Sees each publication once per node before fan-out (e.g. to update local state)."""


def raw_payload(publication: Publication) -> Frame:
    """The default `Render`: the published bytes as they are."""
    return publication.payload


class _Channel:
    """Local members of one channel, and the broker handler that feeds them."""

    __slots__ = ("_members", "_snapshot", "buffers", "hub", "name", "ready")

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self._members: dict[Outbound, None] = {}
        self._snapshot: tuple[Outbound, ...] | None = ()
        self.buffers: dict[Outbound, list[Publication]] = {}
        self.ready = asyncio.create_task(hub.broker.subscribe(name, self.deliver))

    @property
    def members(self) -> tuple[Outbound, ...]:
        # Fan-out iterates a snapshot, so an `offer` that leaves the channel is harmless.
        if self._snapshot is None:
            self._snapshot = tuple(self._members)
        return self._snapshot

    def add(self, conn: Outbound) -> bool:
        if conn in self._members:
            return False
        self._members[conn] = None
        self._snapshot = None
        return True

    def remove(self, conn: Outbound) -> bool:
        self.buffers.pop(conn, None)
        if conn not in self._members:
            return False
        del self._members[conn]
        self._snapshot = None
        return True

    def __contains__(self, conn: object) -> bool:
        return conn in self._members

    def __len__(self) -> int:
        return len(self._members)

    def deliver(self, publication: Publication) -> None:
        """Broker handler: observe, render once, offer the same frame to every live member."""
        if self.hub.observe is not None:
            self.hub.observe(publication)
        for buffer in self.buffers.values():
            buffer.append(publication)
        self.hub.offer_all(self.members, self.hub.render(publication), skip=self.buffers)


class Hub:
    """Local channel memberships over a `Broker`; fan-out never awaits a send."""

    def __init__(
        self,
        broker: Broker,
        *,
        render: Render = raw_payload,
        observe: Observe | None = None,
        recovery_limit: int = 1000,
    ) -> None:
        self.broker = broker
        self.render = render
        self.observe = observe
        self.recovery_limit = recovery_limit
        self._channels: dict[str, _Channel] = {}
        self._memberships: dict[Outbound, int] = {}
        self._cleanup: set[asyncio.Task[None]] = set()
        # Counters for metrics: offers accepted and refused by connection queues.
        self.frames_offered = 0
        self.frames_refused = 0

    @property
    def channel_count(self) -> int:
        """Channels with at least one local member."""
        return len(self._channels)

    @property
    def connection_count(self) -> int:
        """Distinct local connections in at least one channel."""
        return len(self._memberships)

    @property
    def membership_count(self) -> int:
        """(channel, connection) pairs on this node."""
        return sum(self._memberships.values())

    def channels(self) -> list[str]:
        """Names of channels with local members."""
        return list(self._channels)

    def members(self, channel: str) -> tuple[Outbound, ...]:
        """Local members of `channel` (empty if none)."""
        found = self._channels.get(channel)
        return found.members if found is not None else ()

    async def publish(self, channel: str, payload: bytes) -> Publication:
        """Publish through the broker; local members receive it from the subscription."""
        return await self.broker.publish(channel, payload)

    async def join(self, channel: str, conn: Outbound) -> None:
        """Add `conn` to `channel`; once this returns it gets every later publication."""
        found, added = self._enter(channel, conn)
        try:
            await asyncio.shield(found.ready)
        except BaseException:
            self._undo(found, conn, added)
            raise

    async def resume(self, channel: str, conn: Outbound, since: StreamPosition) -> RecoveryOutcome:
        """Join and catch `conn` up from `since`; on success the missed frames are offered first.

        Live publications are buffered during the history read and merged into the result.
        On `NeedsSnapshot` nothing missed is offered: the caller sends a snapshot.
        """
        found, added = self._enter(channel, conn)
        buffer = found.buffers[conn] = []
        try:
            await asyncio.shield(found.ready)
            history = await self.broker.history(channel, since.offset, self.recovery_limit)
        except BaseException:
            found.buffers.pop(conn, None)
            self._undo(found, conn, added)
            raise
        found.buffers.pop(conn, None)
        outcome = recover(since, history, buffered=buffer)
        if isinstance(outcome, Recovered) and conn in found:
            self.offer_all((conn,), *map(self.render, outcome.publications))
        return outcome

    def leave(self, channel: str, conn: Outbound) -> None:
        """Remove `conn` from `channel`; the last member out drops the channel and subscription."""
        found = self._channels.get(channel)
        if found is None or not found.remove(conn):
            return
        self._count(conn, -1)
        if not found:
            del self._channels[channel]
            self._spawn(self._unsubscribe(found))

    def leave_all(self, conn: Outbound) -> None:
        """Remove `conn` from every channel it is in, e.g. when its socket closes."""
        for name, found in list(self._channels.items()):
            if conn in found:
                self.leave(name, conn)

    def broadcast_local(self, channel: str, frame: Frame) -> int:
        """Offer one `frame` to every local member of `channel`; returns how many took it."""
        found = self._channels.get(channel)
        if found is None:
            return 0
        return self.offer_all(found.members, frame, skip=found.buffers)

    def offer_all(
        self, conns: tuple[Outbound, ...], *frames: Frame, skip: Collection[Outbound] = ()
    ) -> int:
        """Offer each frame to each connection not in `skip`, never awaiting; returns accepted."""
        accepted = refused = 0
        for conn in conns:
            if skip and conn in skip:
                continue
            for frame in frames:
                if conn.offer(frame):
                    accepted += 1
                else:
                    refused += 1
        self.frames_offered += accepted
        self.frames_refused += refused
        return accepted

    async def settle(self) -> None:
        """Wait for pending broker unsubscriptions (tests and shutdown)."""
        while self._cleanup:
            await asyncio.gather(*self._cleanup, return_exceptions=True)

    async def close(self) -> None:
        """Drop every local membership and broker subscription."""
        for name, found in list(self._channels.items()):
            for conn in found.members:
                self.leave(name, conn)
        await self.settle()

    def _enter(self, channel: str, conn: Outbound) -> tuple[_Channel, bool]:
        found = self._channels.get(channel)
        if found is None:
            found = self._channels[channel] = _Channel(self, channel)
        added = found.add(conn)
        if added:
            self._count(conn, +1)
        return found, added

    def _undo(self, found: _Channel, conn: Outbound, added: bool) -> None:
        if added:
            self.leave(found.name, conn)

    async def _unsubscribe(self, found: _Channel) -> None:
        await asyncio.wait([found.ready])
        if found.ready.cancelled() or found.ready.exception() is not None:
            return  # never subscribed: nothing to undo
        await self.broker.unsubscribe(found.name, found.deliver)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._cleanup.add(task)
        task.add_done_callback(self._cleanup.discard)

    def _count(self, conn: Outbound, delta: int) -> None:
        count = self._memberships.get(conn, 0) + delta
        if count:
            self._memberships[conn] = count
        else:
            del self._memberships[conn]
