"""`Subscriptions`: a `RedisBroker`'s subscriptions to channels, over one pub/sub connection.

A node subscribes to a channel in Redis once, however many local handlers it has; the
channel's `ChannelFeed` delivers to those handlers in offset order. This module keeps that
table (by channel for the broker, by pub/sub key for the reader), subscribes and releases keys
in Redis without ever cancelling a newer subscription to the same key, and routes what the
`RedisSubscriber` reads to the right feed. Outages and publishing stay with the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from .broker import Handler, HistoryResult, StreamPosition
from .channel_feed import ChannelFeed, ResetHandler
from .redis_scripts import ChannelKeys, FrameError, parse_frame
from .redis_subscriber import RedisSubscriber

logger = logging.getLogger("realtime.redis_broker")  # the name its lines have always had


@dataclass(slots=True)
class _Subscription:
    """This node's single Redis subscription to a channel, shared by its handlers."""

    keys: ChannelKeys
    feed: ChannelFeed
    ready: asyncio.Task[None] = field(init=False)


class Subscriptions:
    """The channels this node subscribes to: their feeds and the pub/sub reader behind them."""

    def __init__(
        self,
        client: Redis,
        *,
        sharded: bool,
        keys: Callable[[str], ChannelKeys],
        fetch: Callable[[str, int, int], Awaitable[HistoryResult]],
        position: Callable[[str], Awaitable[StreamPosition]],
        on_reset: ResetHandler,
        queue_size: int,
        recovery_limit: int,
        reconnect_delays: tuple[float, float],
        ping_interval: float,
        timeout: float,
    ) -> None:
        """`keys(channel)` names a channel's Redis keys; `fetch` reads a channel's history and
        `position(channel)` its latest position; `on_reset(channel)` is called when a feed lost
        publications for good. Each feed queues at most `queue_size` arrivals and recovers at
        most `recovery_limit` at a time; the other settings are the reader's (see
        `RedisSubscriber`)."""
        self._keys = keys
        self._fetch = fetch
        self._position = position
        self._on_reset = on_reset
        self._queue_size = queue_size
        self._recovery_limit = recovery_limit
        self._delays = reconnect_delays
        self._subscriber = RedisSubscriber(
            client,
            sharded=sharded,
            channels=self._active_keys,
            on_message=self._on_message,
            on_resubscribed=self._on_resubscribed,
            reconnect_delays=reconnect_delays,
            ping_interval=ping_interval,
            timeout=timeout,
        )
        self._by_channel: dict[str, _Subscription] = {}
        self._by_key: dict[bytes, _Subscription] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._retired_overflows = 0

    async def add(self, channel: str, handler: Handler) -> None:
        """Add `handler` to `channel`, subscribing in Redis first if it is the channel's first;
        returns once Redis has confirmed the subscription (a failure undoes the addition)."""
        subscription = self._by_channel.get(channel) or self._new_subscription(channel)
        subscription.feed.handlers.append(handler)
        try:
            await asyncio.shield(subscription.ready)
        except BaseException:
            self._detach(subscription, handler)
            raise

    async def remove(self, channel: str, handler: Handler) -> None:
        """Remove one subscription of `handler`; the last one out unsubscribes in Redis."""
        subscription = self._by_channel.get(channel)
        if subscription is None or handler not in subscription.feed.handlers:
            return
        subscription.feed.handlers.remove(handler)
        if not subscription.feed.handlers:
            self._forget(subscription)
            await self._release(subscription.keys.pubsub)

    async def close(self) -> None:
        """Drop every subscription, stop the reader, and wait for the feeds' workers."""
        pending: list[asyncio.Task[Any]] = []
        for subscription in list(self._by_channel.values()):
            self._forget(subscription)
            pending.append(subscription.ready)
        await self._subscriber.close()
        await asyncio.gather(*pending, *self._background, return_exceptions=True)

    def feed(self, channel: str) -> ChannelFeed | None:
        """The feed of `channel`, if this node subscribes to it."""
        subscription = self._by_channel.get(channel)
        return subscription.feed if subscription is not None else None

    def feeds(self) -> Iterator[tuple[str, ChannelFeed]]:
        """Every subscribed channel with its feed."""
        for channel, subscription in self._by_channel.items():
            yield channel, subscription.feed

    def handler_count(self, channel: str) -> int:
        """How many handlers are subscribed to `channel` on this node."""
        subscription = self._by_channel.get(channel)
        return len(subscription.feed.handlers) if subscription is not None else 0

    def __len__(self) -> int:
        return len(self._by_channel)

    @property
    def connected(self) -> bool:
        """True while the pub/sub connection is up."""
        return self._subscriber.connected

    @property
    def reconnects(self) -> int:
        """How many times the pub/sub connection was lost and re-established."""
        return self._subscriber.reconnects

    @property
    def overflow_count(self) -> int:
        """Arrivals dropped from full channel queues (then recovered from history)."""
        live = sum(sub.feed.overflows for sub in self._by_channel.values())
        return self._retired_overflows + live

    def _new_subscription(self, channel: str) -> _Subscription:
        keys = self._keys(channel)
        feed = ChannelFeed(
            channel,
            fetch=self._fetch,
            on_reset=self._on_reset,
            queue_size=self._queue_size,
            recovery_limit=self._recovery_limit,
            retry_delays=self._delays,
        )
        subscription = _Subscription(keys, feed)
        subscription.ready = asyncio.create_task(self._activate(subscription))
        subscription.ready.add_done_callback(_retrieve)  # failures reach waiters, or nobody
        self._by_channel[channel] = subscription
        self._by_key[keys.pubsub] = subscription
        return subscription

    async def _activate(self, subscription: _Subscription) -> None:
        """Subscribe, then read the position: everything after it gets delivered, gap-free.

        Arrivals between the confirmation and the read are held back by the feed; those at
        or before the position were published before `subscribe` returned and are skipped.
        """
        try:
            await self._subscriber.subscribe(subscription.keys.pubsub)
            subscription.feed.start(await self._position(subscription.feed.channel))
        except BaseException:
            if self._by_channel.get(subscription.feed.channel) is subscription:
                self._forget(subscription)
                self._spawn(self._release(subscription.keys.pubsub))
            raise

    def _detach(self, subscription: _Subscription, handler: Handler) -> None:
        """Undo a failed or cancelled `add`; the last handler out drops the channel."""
        handlers = subscription.feed.handlers
        if handler in handlers:
            handlers.remove(handler)
        if not handlers and self._by_channel.get(subscription.feed.channel) is subscription:
            self._forget(subscription)
            self._spawn(self._release(subscription.keys.pubsub))

    async def _release(self, key: bytes) -> None:
        """Unsubscribe `key` in Redis unless a newer subscription to it exists by now.

        Subscription changes are sent in the order they queue for the subscriber's lock, and a
        new subscription registers its key before it queues, so this never cancels a newer one.
        """
        if key not in self._by_key:
            await self._subscriber.unsubscribe(key)

    def _forget(self, subscription: _Subscription) -> None:
        """Stop delivering for `subscription` and drop it from the tables."""
        channel = subscription.feed.channel
        if self._by_channel.get(channel) is subscription:
            del self._by_channel[channel]
            del self._by_key[subscription.keys.pubsub]
            self._retired_overflows += subscription.feed.overflows
        if not subscription.ready.done() and subscription.ready is not asyncio.current_task():
            subscription.ready.cancel()
        worker = subscription.feed.close()
        if worker is not None:
            self._background.add(worker)
            worker.add_done_callback(self._background.discard)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _active_keys(self) -> list[bytes]:
        """Pub/sub channels to subscribe again after a reconnect."""
        return list(self._by_key)

    def _on_message(self, key: bytes, data: bytes) -> None:
        """Reader callback: frame -> `Publication` -> the channel's feed, without waiting."""
        subscription = self._by_key.get(key)
        if subscription is None:
            return
        try:
            publication = parse_frame(subscription.feed.channel, data)
        except FrameError as exc:
            logger.warning("%s", exc)
            return
        subscription.feed.push(publication)

    def _on_resubscribed(self) -> None:
        """After a reconnect: every channel checks the stream for offsets it missed."""
        for subscription in self._by_channel.values():
            subscription.feed.check()


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
