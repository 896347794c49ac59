"""`Outage`: a `RedisBroker`'s view of a Redis outage, and the task that ends it.

A failed Redis command makes the broker *degraded*: it then serves the channels it subscribes
to locally (`ChannelFeed.publish_local`) and remembers them as *stale*, since the stream in
Redis lacks what was delivered here. A background task probes Redis with backoff; once Redis
answers and the pub/sub connection is back, it bumps the epoch of every stale channel (so every
node, this one included, resets it and resyncs from the database) and then lets the diverged
feeds rejoin their streams.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from .errors import BrokerUnavailableError

logger = logging.getLogger(__name__)


class Outage:
    """Degraded flag, stale channels and the healing task of one broker."""

    def __init__(
        self,
        *,
        probe: Callable[[], Awaitable[object]],
        reconnected: Callable[[], bool],
        bump: Callable[[str], Awaitable[None]],
        rejoin: Callable[[frozenset[str]], None],
        delays: tuple[float, float],
    ) -> None:
        """`probe` raises while Redis is down; `reconnected` says whether the pub/sub side is
        back; `bump(channel)` gives a channel a new epoch; `rejoin(still_stale)` ends local mode
        of feeds on the other channels; `delays` bound the probing backoff."""
        self._probe = probe
        self._reconnected = reconnected
        self._bump = bump
        self._rejoin = rejoin
        self._delays = delays
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.degraded = False
        self.stale: set[str] = set()
        self.local_publishes = 0
        """Publications delivered to this node only, while Redis was unreachable."""
        self.bumps = 0
        """Epochs started after an outage for channels published locally."""

    def failed(self) -> None:
        """A Redis command failed: serve locally and probe until Redis is back."""
        if not self.degraded:
            logger.warning("redis unreachable: serving local channels until it is back")
        self.degraded = True
        if not self._closed and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._heal(), name="redis-outage")

    def published_locally(self, channel: str) -> None:
        """`channel` got a publication Redis does not have: bump its epoch once Redis is back."""
        self.stale.add(channel)
        self.local_publishes += 1

    async def close(self) -> None:
        """Stop probing."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _heal(self) -> None:
        delay = self._delays[0]
        while not self._closed and (self.degraded or self.stale):
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._delays[1])
            if not self._reconnected():
                continue
            try:
                await self._probe()
                # Publishing to Redis again before the bumps is harmless: a diverged feed
                # drops those arrivals and its reset brings them back from the database.
                self.degraded = False
                for channel in list(self.stale):
                    await self._bump(channel)
                    self.stale.discard(channel)
                    self.bumps += 1
            except (RedisError, OSError, BrokerUnavailableError) as exc:
                logger.info("redis still unreachable: %s", exc)
                self.degraded = True
                continue
            self._rejoin(frozenset(self.stale))
        if not self._closed:
            logger.warning("redis is back; channels published locally got new epochs")
