"""`RedisBroker`: the many-node broker, on Redis Streams (history, offsets) and pub/sub (fan-out).

Publishing, history reads and epoch bumps are Lua scripts run by `redis_commands.RedisCommands`
(one publish per event per channel, never per client; each node fans out locally, see `Hub`).

Delivery (`redis_subscriptions.Subscriptions`): one `RedisSubscriber` connection per broker
whose reader task never waits on handlers; it pushes each publication into the channel's
`ChannelFeed`, a bounded queue with its own worker that calls the handlers in offset order and
fills holes from the stream. After a dropped connection the subscriber resubscribes
(exponential backoff) and every feed compares its last delivered offset with the stream:
missed publications are delivered from history in order; if history was lost (epoch changed,
e.g. Redis restarted without persistence, or trimmed), the feed skips to the latest position
and `on_reset(channel)` is called so rooms can resync.

Redis outage: once a command fails the broker is *degraded*. Channels this node subscribes to
keep working locally: `publish` delivers to local handlers under a local epoch (the feed's local
mode) and `history`/`position` answer from the local position, so local connections are served.
When Redis is back (`redis_outage.Outage`), every channel published locally meanwhile gets a
new epoch in Redis (`BUMP_LUA`): every node, this one included, then finds an epoch it cannot
reconcile and resets the channel (rooms and documents resync from the database, where every
publication was stored first).
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .broker import Handler, HistoryResult, Publication, StreamPosition
from .channel_feed import ChannelFeed, ResetHandler
from .errors import BrokerUnavailableError
from .redis_commands import RedisCommands, validate_connection, validate_history
from .redis_outage import Outage
from .redis_subscriptions import Subscriptions

logger = logging.getLogger(__name__)


class RedisBroker:
    """A `Broker` over Redis for many nodes; delivery to handlers is asynchronous but ordered."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        # keys and pub/sub
        key_prefix: str = "liveclass",
        sharded: bool = True,
        # history
        history_size: int = 1000,
        history_ttl: float = 300.0,
        meta_ttl: float = 86_400.0,
        # delivery
        queue_size: int = 1024,
        on_reset: ResetHandler | None = None,
        # connection
        reconnect_min_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        ping_interval: float = 5.0,
        timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        """Connect lazily to Redis at `url`; keyword settings are grouped by purpose.

        Keys and pub/sub: `key_prefix` namespaces every key; `sharded` uses SPUBLISH/SSUBSCRIBE
        (Redis >= 7), else PUBLISH/SUBSCRIBE (one plain channel per broker channel).
        History (as in `InMemoryBroker`): a publication is kept while among the last
        `history_size` and younger than `history_ttl` seconds; a channel's (epoch, offset)
        survives `meta_ttl` seconds without publishes, after which it gets a new epoch.
        Delivery: each subscribed channel queues at most `queue_size` arrivals (overflow is
        recovered from history). `on_reset(channel)` (the first reset listener; more with
        `add_reset_listener`) is called, from the channel's delivery task and in order with
        its publications, when publications were lost for good and state built from them
        must resync from a snapshot.
        Connection: reconnects back off from `reconnect_min_delay` doubling to
        `reconnect_max_delay` seconds; an idle subscription is pinged every `ping_interval`
        seconds; `timeout` bounds each Redis command, connect and subscription confirmation, and
        the wait for one of the pool's `max_connections` (one of them is the pub/sub reader's).
        """
        validate_history(history_size, history_ttl, meta_ttl, queue_size)
        validate_connection(
            reconnect_min_delay, reconnect_max_delay, ping_interval, timeout, max_connections
        )
        self.history_size = history_size
        self.queue_size = queue_size
        self._reset_listeners: list[ResetHandler] = [on_reset] if on_reset is not None else []
        self._delays = (reconnect_min_delay, reconnect_max_delay)
        self._commands = RedisCommands(
            url,
            key_prefix=key_prefix,
            sharded=sharded,
            history_size=history_size,
            history_ttl=history_ttl,
            meta_ttl=meta_ttl,
            timeout=timeout,
            max_connections=max_connections,
            check_open=self._check_open,
            on_failure=lambda: self._outage.failed(),
        )
        self._subscriptions = Subscriptions(
            self._commands.client,
            sharded=sharded,
            keys=self._commands.keys,
            fetch=self._commands.history,
            position=self.position,
            on_reset=self._notify_reset,
            queue_size=queue_size,
            recovery_limit=history_size,
            reconnect_delays=self._delays,
            ping_interval=ping_interval,
            timeout=timeout,
        )
        self._closed = False
        self._outage = Outage(
            probe=self._commands.ping,
            reconnected=lambda: not self._subscriptions or self._subscriptions.connected,
            bump=self._commands.bump,
            rejoin=self._rejoin,
            delays=self._delays,
        )
        self.reset_count = 0
        """How many times a channel lost publications for good and `on_reset` was due."""

    async def publish(self, channel: str, payload: bytes) -> Publication:
        """Assign the next offset, append to the capped stream and publish, in one script.

        While Redis is unreachable, a channel with a local subscription is published locally
        (see the module docstring); any other raises `BrokerUnavailableError`. Either way the
        channel gets a new epoch once Redis is back, so nodes that missed it resync.
        """
        if not self._outage.degraded:
            try:
                return await self._commands.publish(channel, payload)
            except BrokerUnavailableError:
                pass
        if (local := self._local_feed(channel)) is None:
            self._outage.stale.add(channel)  # callers store first: other nodes resync
            raise BrokerUnavailableError("redis is unreachable")
        return self._publish_locally(channel, local, payload)

    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Call `handler` for every later publication on `channel`, in offset order.

        The first handler of a channel subscribes this node in Redis and returns once Redis has
        confirmed it; raises `BrokerUnavailableError` if Redis is unreachable. Unlike
        `InMemoryBroker`, delivery is not done when `publish` returns: a channel's handlers run
        shortly after, from the channel's own task, each publication once and in offset order.
        """
        self._check_open()
        await self._subscriptions.add(channel, handler)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        """Remove one subscription of `handler`; the last one out unsubscribes in Redis."""
        await self._subscriptions.remove(channel, handler)

    async def history(self, channel: str, since_offset: int, limit: int) -> HistoryResult:
        """Retained publications after `since_offset`, oldest first, at most `limit`.

        While Redis is unreachable, a subscribed channel answers with this node's position and
        no publications: a reader at that position recovers, any other needs a snapshot.
        """
        if not self._outage.degraded:
            try:
                return await self._commands.history(channel, since_offset, limit)
            except BrokerUnavailableError:
                if self._local_feed(channel) is None:
                    raise
        local = self._local_feed(channel)
        if local is None or local.last is None:
            raise BrokerUnavailableError("redis is unreachable")
        return HistoryResult((), local.last.epoch, local.last.offset)

    async def position(self, channel: str) -> StreamPosition:
        """The channel's latest position (creating its epoch on first use)."""
        return (await self.history(channel, 0, 0)).position

    async def ping(self) -> None:
        """Raise `BrokerUnavailableError` if Redis is unreachable or subscriptions are down."""
        self._check_open()
        if self._outage.degraded:
            raise BrokerUnavailableError("redis is unreachable; serving local channels only")
        try:
            await self._commands.ping()
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError("redis is unreachable") from exc
        if self._subscriptions and not self._subscriptions.connected:
            raise BrokerUnavailableError("redis subscriptions are reconnecting")

    async def close(self) -> None:
        """Drop every subscription, stop the reader and workers, close the connections."""
        if self._closed:
            return
        self._closed = True
        await self._outage.close()
        await self._subscriptions.close()
        await self._commands.close()

    def subscriber_count(self, channel: str) -> int:
        """How many handlers are subscribed to `channel` on this node."""
        return self._subscriptions.handler_count(channel)

    @property
    def channel_count(self) -> int:
        """How many channels this node is subscribed to."""
        return len(self._subscriptions)

    @property
    def connected(self) -> bool:
        """True while the pub/sub connection is up (for readiness and metrics)."""
        return self._subscriptions.connected

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and channels are served locally."""
        return self._outage.degraded

    def add_reset_listener(self, listener: ResetHandler) -> None:
        """Also call `listener(channel)` when a channel lost publications for good."""
        self._reset_listeners.append(listener)

    def remove_reset_listener(self, listener: ResetHandler) -> None:
        """Stop calling `listener`; an unknown one is ignored."""
        if listener in self._reset_listeners:
            self._reset_listeners.remove(listener)

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics: connectivity, local-only publications, resets, reconnects."""
        return {
            "connected": float(self.connected and not self._outage.degraded),
            "degraded": float(self._outage.degraded),
            "channels": float(self.channel_count),
            "local_publishes": float(self._outage.local_publishes),
            "stale": float(len(self._outage.stale)),
            "epoch_bumps": float(self._outage.bumps),
            "resets": float(self.reset_count),
            "reconnects": float(self.reconnects),
            "overflows": float(self.overflow_count),
        }

    @property
    def overflow_count(self) -> int:
        """Arrivals dropped from full channel queues (then recovered from history)."""
        return self._subscriptions.overflow_count

    @property
    def reconnects(self) -> int:
        """How many times the pub/sub connection was lost and re-established."""
        return self._subscriptions.reconnects

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailableError("broker closed")

    # ------------------------------------------------------------------ Redis outages

    def _local_feed(self, channel: str) -> ChannelFeed | None:
        """The channel's feed if this node can serve it alone (subscribed and started)."""
        feed = self._subscriptions.feed(channel)
        if feed is None or feed.last is None:
            return None
        return feed

    def _publish_locally(self, channel: str, feed: ChannelFeed, payload: bytes) -> Publication:
        publication = feed.publish_local(payload)
        self._outage.published_locally(channel)
        return publication

    def _rejoin(self, still_stale: frozenset[str]) -> None:
        for channel, feed in self._subscriptions.feeds():
            if feed.diverged and channel not in still_stale:
                feed.rejoin()

    def _notify_reset(self, channel: str) -> None:
        self.reset_count += 1
        for listener in tuple(self._reset_listeners):
            try:
                listener(channel)
            except Exception:
                logger.exception("reset listener failed for channel %r", channel)
