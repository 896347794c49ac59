"""`ChannelFeed`: gap-free, in-order delivery of one channel's publications to sync handlers.

A broker's reader pushes publications as they arrive (it never waits); the feed's own worker
task calls the handlers in offset order, yielding to the event loop after each publication so a
busy or slow channel never holds up another. The feed remembers the last position it delivered
and fills holes from the broker's history: a skipped offset, a queue overflow, or an explicit
`check()` (after the broker resubscribed) all lead to a history read. When history cannot fill
the hole (epoch changed, entries trimmed or expired), the feed jumps to the channel's latest
position and calls `on_reset(channel)`; publications at or before that position are skipped.
Until `start(position)` gives the starting point, arrivals are queued but not delivered.

Local mode (Redis unreachable): `publish_local` delivers this node's own publications at once,
under a local epoch and offsets that continue the stream's, so local connections keep going.
The channel has then diverged from the stream: arrivals and checks are ignored until the broker
has bumped the channel's epoch in Redis and calls `rejoin()`, after which the next check finds
another epoch and resets the channel (state built from it resyncs from the database).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from .broker import Handler, HistoryResult, Publication, StreamPosition
from .errors import BrokerUnavailableError
from .memory_broker import new_epoch
from .recovery import Recovered, recover

logger = logging.getLogger(__name__)

Fetch: TypeAlias = Callable[[str, int, int], Awaitable[HistoryResult]]
"""Reads history like `Broker.history(channel, since_offset, limit)`."""

ResetHandler: TypeAlias = Callable[[str], None]
"""Told the channel's name when publications were lost and local state must resync."""


class ChannelFeed:
    """One channel's handlers, a bounded queue of arrivals, and the worker that drains it."""

    def __init__(
        self,
        channel: str,
        *,
        fetch: Fetch,
        on_reset: ResetHandler,
        queue_size: int,
        recovery_limit: int,
        retry_delays: tuple[float, float],
    ) -> None:
        self.channel = channel
        self.handlers: list[Handler] = []
        self.last: StreamPosition | None = None
        """The position of the last publication delivered (or the baseline at subscribe)."""
        self.overflows = 0
        self.resets = 0
        self._fetch = fetch
        self._on_reset = on_reset
        self._queue: deque[Publication] = deque()
        self._queue_size = queue_size
        self._recovery_limit = recovery_limit
        self._retry_delays = retry_delays
        self._check = False
        self._local: str | None = None
        self._local_top = 0
        self._started = False
        self._closed = False
        self._worker: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Publications queued and not yet delivered."""
        return len(self._queue)

    @property
    def diverged(self) -> bool:
        """True in local mode: this node delivered publications the stream does not have."""
        return self._local is not None

    def start(self, position: StreamPosition) -> None:
        """Begin delivering what comes after `position`; arrivals until now were held back."""
        self.last = position
        self._started = True
        self._kick()

    def push(self, publication: Publication) -> None:
        """Queue an arrival without waiting; when full, drop it and recover it from history."""
        if self._closed:
            return
        if len(self._queue) >= self._queue_size:
            self.overflows += 1
            self._check = True
        else:
            self._queue.append(publication)
        self._kick()

    def check(self) -> None:
        """Compare with the stream once the queue is drained and deliver anything missed."""
        if self._closed or self._local is not None:
            return  # diverged: `rejoin` checks once the epoch was bumped
        self._check = True
        self._kick()

    def publish_local(self, payload: bytes) -> Publication:
        """Deliver this node's publication now, in local mode (see the module docstring).

        Raises `BrokerUnavailableError` before `start`: there is no position to continue.
        """
        last = self.last
        if self._closed or last is None:
            raise BrokerUnavailableError("channel not ready for local delivery")
        if self._local is None:
            self._enter_local(last)
        self._local_top += 1
        assert self._local is not None
        publication = Publication(self.channel, self._local_top, self._local, payload)
        self._deliver(publication)
        return publication

    def rejoin(self) -> None:
        """Leave local mode after the broker bumped the epoch: the next check resets."""
        if self._local is None:
            return
        self._local = None
        self._check = True
        self._kick()

    def _enter_local(self, last: StreamPosition) -> None:
        """Deliver queued arrivals that are next in line; later ones come back with the resync."""
        while self._queue:
            arrival = self._queue.popleft()
            now = self.last or last
            if arrival.epoch == now.epoch and arrival.offset == now.offset + 1:
                self._deliver(arrival)
        self._check = False
        self._local = new_epoch()
        self._local_top = (self.last or last).offset

    def close(self) -> asyncio.Task[None] | None:
        """Stop delivering; returns the cancelled worker, if any, for the caller to await."""
        self._closed = True
        self._queue.clear()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
        return worker

    def _kick(self) -> None:
        if (
            self._worker is None
            and self._started
            and not self._closed
            and (self._queue or (self._check and self._local is None))
        ):
            self._worker = asyncio.create_task(self._run(), name=f"feed:{self.channel}")

    async def _run(self) -> None:
        delay = self._retry_delays[0]
        try:
            while not self._closed and (self._queue or (self._check and self._local is None)):
                try:
                    await self._step()
                except BrokerUnavailableError as exc:
                    logger.info("history read for %r failed (%s); retrying", self.channel, exc)
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                    delay = min(delay * 2, self._retry_delays[1])
                    continue
                delay = self._retry_delays[0]
                await asyncio.sleep(0)  # fairness: let other channels' workers run
        finally:
            if self._worker is asyncio.current_task():
                self._worker = None

    async def _step(self) -> None:
        """Deliver the oldest queued publication, or run a due check on an empty queue."""
        if not self._queue:
            self._check = False
            try:
                await self._recover()
            except BaseException:
                self._check = True
                raise
            return
        publication = self._queue.popleft()
        try:
            await self._accept(publication)
        except BaseException:
            self._queue.appendleft(publication)
            raise

    async def _accept(self, publication: Publication) -> None:
        """Deliver `publication` if it is the next one; read history first if some are missing."""
        last = self.last
        if last is None:
            self._deliver(publication)
            return
        if self._local is not None:
            return  # diverged: the resync after the outage brings it
        if publication.epoch == last.epoch:
            if publication.offset <= last.offset:
                return  # already delivered, from history
            if publication.offset == last.offset + 1:
                self._deliver(publication)
                return
        await self._recover()  # a hole, or another epoch
        last = self.last
        if (
            last is not None
            and publication.epoch == last.epoch
            and publication.offset == last.offset + 1
        ):
            self._deliver(publication)

    async def _recover(self) -> None:
        """Deliver what history holds after the last position, or reset to the latest one."""
        since = self.last
        if since is None or self._closed:
            return
        history = await self._fetch(self.channel, since.offset, self._recovery_limit)
        if self._closed or self.last is not since or self._local is not None:
            return  # local deliveries moved on meanwhile
        outcome = recover(since, history)
        if isinstance(outcome, Recovered):
            for publication in outcome.publications:
                self._deliver(publication)
            self.last = outcome.position
        else:
            logger.warning("channel %r lost publications: %s", self.channel, outcome.reason)
            self._reset(outcome.position)

    def _deliver(self, publication: Publication) -> None:
        self.last = publication.position
        for handler in tuple(self.handlers):
            try:
                handler(publication)
            except Exception:
                logger.exception("handler failed for channel %r", self.channel)

    def _reset(self, position: StreamPosition) -> None:
        self.last = position
        self.resets += 1
        try:
            self._on_reset(self.channel)
        except Exception:
            logger.exception("on_reset failed for channel %r", self.channel)
