"""The broker interface: per-channel ordered history (offset + epoch) and pub/sub delivery.

Implementations: `InMemoryBroker` (one node) and a Redis one (Streams + pub/sub) for many nodes.
Both follow the Centrifugo model: every publication to a channel gets the next offset, offsets
are dense (1, 2, 3, ...) within an epoch, and the epoch changes whenever the history is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, runtime_checkable


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """A point in a channel's stream; offset 0 means nothing published yet in this epoch."""

    offset: int
    epoch: str


@dataclass(frozen=True, slots=True)
class Publication:
    """One message published to a channel, with the offset the broker assigned to it."""

    channel: str
    offset: int
    epoch: str
    payload: bytes
    receivers: int | None = field(default=None, compare=False)
    """Nodes the broker delivered it to, itself included, as `publish` returns it (None: not
    known, e.g. published locally while Redis is down); the count a request made to every
    subscribed node waits for (`realtime.yjs.settling`)."""

    @property
    def position(self) -> StreamPosition:
        """Where this publication sits in its channel's stream."""
        return StreamPosition(self.offset, self.epoch)


@dataclass(frozen=True, slots=True)
class HistoryResult:
    """Retained publications after some offset (ascending), plus the channel's latest position."""

    publications: tuple[Publication, ...]
    epoch: str
    offset: int

    @property
    def position(self) -> StreamPosition:
        """The channel's latest position at the time of the read."""
        return StreamPosition(self.offset, self.epoch)


Handler: TypeAlias = Callable[[Publication], None]
"""Called for each publication on a subscribed channel; must not block or await."""

ResetListener: TypeAlias = Callable[[str], None]
"""Told a channel's name when its publications were lost for good and state built from them
must resync from a snapshot; must not block or await."""


@runtime_checkable
class Broker(Protocol):
    """Assigns offsets, keeps bounded history and delivers publications to subscribed nodes."""

    async def publish(self, channel: str, payload: bytes) -> Publication:
        """Append `payload` to the channel's history under the next offset, then deliver it."""
        ...

    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Call `handler` for every later publication on `channel`, in offset order."""
        ...

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        """Stop calling `handler` for `channel`; unknown pairs are ignored."""
        ...

    async def history(self, channel: str, since_offset: int, limit: int) -> HistoryResult:
        """Up to `limit` retained publications with offset > `since_offset`, oldest first."""
        ...

    async def position(self, channel: str) -> StreamPosition:
        """The channel's latest offset and current epoch."""
        ...

    async def ping(self) -> None:
        """Return if the broker is usable, else raise `BrokerUnavailableError`."""
        ...

    async def close(self) -> None:
        """Drop every subscription and release resources; later calls raise."""
        ...

    def add_reset_listener(self, listener: ResetListener) -> None:
        """Call `listener(channel)`, in order with the channel's deliveries, whenever the
        broker lost publications of a subscribed channel for good (every listener, in the
        order they were added)."""
        ...

    def remove_reset_listener(self, listener: ResetListener) -> None:
        """Stop calling `listener`; an unknown listener is ignored."""
        ...

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics; always `connected` (1 = usable) and `degraded` (1 = serving
        locally while the shared transport is down), plus what the implementation counts."""
        ...
