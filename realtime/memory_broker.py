"""`InMemoryBroker`: the single-node broker, with history capped by count and age."""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

from .broker import Handler, HistoryResult, Publication, ResetListener, StreamPosition
from .errors import BrokerUnavailableError

logger = logging.getLogger(__name__)

SWEEP_INTERVAL = 10.0
"""Seconds between sweeps that free expired history of idle channels."""


def new_epoch() -> str:
    """A fresh random epoch; a client holding an older one must resync from a snapshot."""
    return secrets.token_hex(8)


@dataclass(slots=True)
class _Stream:
    epoch: str
    touched: float
    offset: int = 0
    entries: deque[tuple[float, Publication]] = field(default_factory=deque)


class InMemoryBroker:
    """A `Broker` for one node: delivers synchronously inside `publish`, in offset order."""

    def __init__(
        self,
        *,
        history_size: int = 1000,
        history_ttl: float = 300.0,
        meta_ttl: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if history_size < 0 or history_ttl <= 0 or meta_ttl < history_ttl:
            raise ValueError("need history_size >= 0 and 0 < history_ttl <= meta_ttl")
        # History: a publication is kept while among the last `history_size` and younger
        # than `history_ttl`; a channel's (epoch, offset) survives `meta_ttl` without publishes.
        self.history_size = history_size
        self.history_ttl = history_ttl
        self.meta_ttl = meta_ttl
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._handlers: dict[str, list[Handler]] = {}
        self._reset_listeners: list[ResetListener] = []
        self._closed = False
        self._next_sweep = clock() + SWEEP_INTERVAL

    async def publish(self, channel: str, payload: bytes) -> Publication:
        """Assign the next offset, append to history, then deliver to subscribers."""
        self._check_open()
        now = self._clock()
        stream = self._stream(channel, now)
        stream.offset += 1
        stream.touched = now
        receivers = 1 if self._handlers.get(channel) else 0  # one node: this one
        publication = Publication(channel, stream.offset, stream.epoch, payload, receivers)
        stream.entries.append((now, publication))
        self._trim(stream, now)
        self._call_handlers(publication)
        return publication

    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Add `handler` to the channel's subscribers."""
        self._check_open()
        self._handlers.setdefault(channel, []).append(handler)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        """Remove one subscription of `handler` to `channel`, if any."""
        handlers = self._handlers.get(channel)
        if handlers is None or handler not in handlers:
            return
        handlers.remove(handler)
        if not handlers:
            del self._handlers[channel]

    async def history(self, channel: str, since_offset: int, limit: int) -> HistoryResult:
        """Retained publications after `since_offset`, oldest first, at most `limit`."""
        self._check_open()
        now = self._clock()
        stream = self._stream(channel, now)
        self._trim(stream, now)
        entries = stream.entries
        start = 0 if not entries else max(0, since_offset + 1 - entries[0][1].offset)
        found = tuple(pub for _, pub in islice(entries, start, start + max(0, limit)))
        return HistoryResult(found, stream.epoch, stream.offset)

    async def position(self, channel: str) -> StreamPosition:
        """The channel's latest position (creating its epoch on first use)."""
        self._check_open()
        stream = self._stream(channel, self._clock())
        return StreamPosition(stream.offset, stream.epoch)

    async def ping(self) -> None:
        """Raise `BrokerUnavailableError` once closed."""
        self._check_open()

    async def close(self) -> None:
        """Drop subscriptions and history."""
        self._closed = True
        self._handlers.clear()
        self._streams.clear()

    def add_reset_listener(self, listener: ResetListener) -> None:
        """Keep `listener`; one node's broker delivers inside `publish`, so it never loses a
        publication a subscriber has not seen and never calls it."""
        self._reset_listeners.append(listener)

    def remove_reset_listener(self, listener: ResetListener) -> None:
        """Forget `listener`, if kept."""
        if listener in self._reset_listeners:
            self._reset_listeners.remove(listener)

    def gauges(self) -> dict[str, float]:
        """Connected until closed; never degraded (there is no shared transport to lose)."""
        return {"connected": 0.0 if self._closed else 1.0, "degraded": 0.0}

    def subscriber_count(self, channel: str) -> int:
        """How many handlers are subscribed to `channel` (for tests and metrics)."""
        return len(self._handlers.get(channel, ()))

    @property
    def channel_count(self) -> int:
        """How many channels currently have a stream (epoch and maybe history)."""
        return len(self._streams)

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailableError("broker closed")

    def _stream(self, channel: str, now: float) -> _Stream:
        if now >= self._next_sweep:
            self._sweep(now)
        stream = self._streams.get(channel)
        if stream is None or now - stream.touched > self.meta_ttl:
            stream = self._streams[channel] = _Stream(new_epoch(), now)
        return stream

    def _trim(self, stream: _Stream, now: float) -> None:
        entries = stream.entries
        while len(entries) > self.history_size:
            entries.popleft()
        oldest_kept = now - self.history_ttl
        while entries and entries[0][0] <= oldest_kept:
            entries.popleft()

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_INTERVAL
        for channel, stream in list(self._streams.items()):
            if now - stream.touched > self.meta_ttl:
                del self._streams[channel]
            else:
                self._trim(stream, now)

    def _call_handlers(self, publication: Publication) -> None:
        for handler in tuple(self._handlers.get(publication.channel, ())):
            try:
                handler(publication)
            except Exception:
                logger.exception("handler failed for channel %r", publication.channel)
