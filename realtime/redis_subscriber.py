"""`RedisSubscriber`: one pub/sub connection per broker, its reader task, and reconnection.

The reader task only reads: every message is handed to `on_message` (which must not block) and
the next one is read at once. Subscribing is confirmed with a PING barrier on the same
connection (Redis answers in order), so a confirmed subscription sees every later message.

When the connection drops (Redis restarted, connection killed, or silent past two ping
intervals), the reader throws the connection away, reconnects with exponential backoff and
jitter, subscribes again to every channel `channels()` lists, and then calls `on_resubscribed`
so the broker can look for publications it missed meanwhile (gap detection).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable, Collection
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from .errors import BrokerUnavailableError

logger = logging.getLogger(__name__)

_HEALTH_TOKEN = b"liveclass-health"


class RedisSubscriber:
    """Owns the broker's pub/sub connection: subscribe, read, detect loss, resubscribe."""

    def __init__(
        self,
        client: Redis,
        *,
        sharded: bool,
        channels: Callable[[], Collection[bytes]],
        on_message: Callable[[bytes, bytes], None],
        on_resubscribed: Callable[[], None],
        reconnect_delays: tuple[float, float],
        ping_interval: float,
        timeout: float,
    ) -> None:
        self._client = client
        self._commands = ("SSUBSCRIBE", "SUNSUBSCRIBE") if sharded else ("SUBSCRIBE", "UNSUBSCRIBE")
        self._message_type = "smessage" if sharded else "message"
        self._channels = channels
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self._delays = reconnect_delays
        self._ping_interval = ping_interval
        self._timeout = timeout
        self._pubsub: PubSub | None = None
        self._attempted = asyncio.Event()
        self._failed = False
        self._lock = asyncio.Lock()
        self._waiters: dict[bytes, asyncio.Future[None]] = {}
        self._tokens = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0
        """How many times the connection was lost and then re-established."""

    @property
    def connected(self) -> bool:
        """True while the pub/sub connection is up and subscribed."""
        return self._pubsub is not None

    def start(self) -> None:
        """Start the reader task (idempotent); needs a running event loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-subscriber")

    async def subscribe(self, channel: bytes) -> None:
        """Subscribe and wait until Redis confirms; raise `BrokerUnavailableError` if down."""
        await self._wait_connected()
        async with self._lock:
            pubsub = self._require_pubsub()
            token, waiter = self._barrier()
            try:
                await self._subscribe(pubsub, channel)
                await pubsub.ping(token)
            except (RedisError, OSError) as exc:
                self._waiters.pop(token, None)
                raise BrokerUnavailableError("redis subscribe failed") from exc
        try:
            await asyncio.wait_for(waiter, self._timeout)
        except TimeoutError:
            raise BrokerUnavailableError("redis did not confirm the subscription") from None
        finally:
            self._waiters.pop(token, None)

    async def unsubscribe(self, channel: bytes) -> None:
        """Unsubscribe if connected; a later reconnect will not subscribe it again anyway."""
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None:
                return
            try:
                await pubsub.execute_command(self._commands[1], channel)
            except (RedisError, OSError) as exc:
                logger.debug("unsubscribe from %r failed: %s", channel, exc)

    async def close(self) -> None:
        """Stop the reader and drop the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._set_down()

    async def _wait_connected(self) -> None:
        """Return once connected; fail fast while reconnecting after a failure."""
        if self._pubsub is None and not self._failed:
            self.start()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._attempted.wait(), self._timeout)
        if self._pubsub is None:
            raise BrokerUnavailableError("redis subscriber is not connected")

    def _require_pubsub(self) -> PubSub:
        if self._pubsub is None:
            raise BrokerUnavailableError("redis subscriber is reconnecting")
        return self._pubsub

    def _barrier(self) -> tuple[bytes, asyncio.Future[None]]:
        token = b"liveclass-sync-%d" % next(self._tokens)
        waiter = self._waiters[token] = asyncio.get_running_loop().create_future()
        return token, waiter

    async def _subscribe(self, pubsub: PubSub, *channels: bytes) -> None:
        # Raw commands rather than redis-py's (s)subscribe helpers: they work on every
        # redis-py >= 5 (asyncio `ssubscribe` only exists since 8.0), and redis-py keeps no
        # subscription list of its own, so it never resubscribes behind our back.
        await pubsub.execute_command(self._commands[0], *channels)

    async def _run(self) -> None:
        """Connect, read until the connection fails, back off, repeat until cancelled."""
        delay = self._delays[0]
        connected_before = False
        while True:
            pubsub = self._client.pubsub()
            try:
                await self._open(pubsub)
                self._set_up(pubsub)
                if connected_before:
                    self.reconnects += 1
                    logger.warning("redis subscriber resubscribed; checking for gaps")
                    self._on_resubscribed()
                connected_before = True
                delay = self._delays[0]
                await self._listen(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                logger.warning("redis subscriber connection lost: %s", exc)
            except Exception:
                logger.exception("redis subscriber failed")
            finally:
                self._set_down()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._delays[1])

    async def _open(self, pubsub: PubSub) -> None:
        """Connect and subscribe to every current channel, reading until Redis confirms."""
        await pubsub.connect()  # type: ignore[no-untyped-call, unused-ignore]
        channels = list(self._channels())
        if channels:
            await self._subscribe(pubsub, *channels)
        token = b"liveclass-open"
        await pubsub.ping(token)
        while True:
            message = await pubsub.get_message(timeout=self._timeout)
            if message is None:
                raise TimeoutError("redis did not confirm the subscriptions")
            if message["type"] == "pong" and message["data"] == token:
                return
            self._dispatch(message)

    async def _listen(self, pubsub: PubSub) -> None:
        """Read forever; ping when idle and give up when the connection stays silent."""
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        while True:
            message = await pubsub.get_message(timeout=self._ping_interval)
            now = loop.time()
            if message is not None:
                last_seen = now
                self._dispatch(message)
            elif now - last_seen >= 2 * self._ping_interval:
                raise TimeoutError("redis pub/sub connection went silent")
            else:
                await pubsub.ping(_HEALTH_TOKEN)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == self._message_type:
            try:
                self._on_message(message["channel"], message["data"])
            except Exception:
                logger.exception("dispatch failed for %r", message["channel"])
        elif kind == "pong":
            waiter = self._waiters.get(message["data"])
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _set_up(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub
        self._failed = False
        self._attempted.set()

    def _set_down(self) -> None:
        """After a failed or ended connection: fail pending confirmations, report down."""
        self._pubsub = None
        self._failed = True
        self._attempted.set()
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_exception(BrokerUnavailableError("redis connection lost"))
