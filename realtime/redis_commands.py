"""`RedisCommands`: the request/response side of `RedisBroker`, apart from its pub/sub reader.

It owns the broker's connection pool and runs the per-channel Lua scripts of `redis_scripts`.
Publishing is one script (`PUBLISH_LUA`): next offset in the channel's epoch, capped XADD to the
channel's history stream under id `<offset>-0`, then one (sharded) publish of the frame
`<offset>:<epoch>:<payload>`. One publish per event per channel, never per client: each node
holds one Redis subscription per channel and fans out locally (see `Hub`).

Commands are never resent (a retried publish could run twice). A failed script is reported to
`on_failure` (the broker's outage tracking) and raised as `BrokerUnavailableError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from .broker import HistoryResult, Publication
from .errors import BrokerUnavailableError
from .memory_broker import new_epoch
from .redis_scripts import (
    BUMP_LUA,
    HISTORY_LUA,
    PUBLISH_LUA,
    ChannelKeys,
    parse_history_reply,
    parse_publish_reply,
)


class RedisCommands:
    """A broker's connection pool and channel scripts; Redis failures become typed errors."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        sharded: bool,
        history_size: int,
        history_ttl: float,
        meta_ttl: float,
        timeout: float,
        max_connections: int,
        check_open: Callable[[], None],
        on_failure: Callable[[], None],
    ) -> None:
        """Settings as in `RedisBroker`; `check_open()` raises once the broker is closed and
        runs before every script, `on_failure()` is called when a script fails."""
        self.key_prefix = key_prefix
        self.sharded = sharded
        self.history_size = history_size
        self.history_ttl = history_ttl
        self.meta_ttl = meta_ttl
        self._check_open = check_open
        self._on_failure = on_failure
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,  # waiting for a free connection
            # Never resend: a retried publish could run twice.
            retry=Retry(NoBackoff(), 0),  # type: ignore[no-untyped-call, unused-ignore]
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self.client = Redis.from_pool(pool)
        """The pooled client, shared with the broker's pub/sub reader."""
        self._publish_script: AsyncScript = self.client.register_script(PUBLISH_LUA)
        self._history_script: AsyncScript = self.client.register_script(HISTORY_LUA)
        self._bump_script: AsyncScript = self.client.register_script(BUMP_LUA)

    def keys(self, channel: str) -> ChannelKeys:
        """The Redis names of `channel`."""
        return ChannelKeys.for_channel(self.key_prefix, channel)

    async def publish(self, channel: str, payload: bytes) -> Publication:
        """Next offset, append to the capped stream and publish, in one script."""
        keys = self.keys(channel)
        reply = await self._script(
            self._publish_script,
            [keys.meta, keys.history],
            [
                payload,
                self.history_size,
                _ms(self.history_ttl),
                _ms(self.meta_ttl),
                new_epoch(),
                keys.pubsub,
                "spublish" if self.sharded else "publish",
            ],
        )
        return parse_publish_reply(channel, payload, reply)

    async def history(self, channel: str, since_offset: int, limit: int) -> HistoryResult:
        """Retained publications after `since_offset` and the latest position, from Redis."""
        keys = self.keys(channel)
        reply = await self._script(
            self._history_script,
            [keys.meta, keys.history],
            [
                since_offset,
                max(0, limit),
                self.history_size,
                _ms(self.history_ttl),
                new_epoch(),
                _ms(self.meta_ttl),
            ],
        )
        return parse_history_reply(channel, reply)

    async def bump(self, channel: str) -> None:
        """A new epoch for `channel` in Redis, announced to every subscribed node."""
        keys = self.keys(channel)
        command = "spublish" if self.sharded else "publish"
        args = [new_epoch(), _ms(self.meta_ttl), keys.pubsub, command]
        await self._script(self._bump_script, [keys.meta, keys.history], args)

    async def ping(self) -> None:
        """PING Redis; raises the client's own errors (`RedisError`, `OSError`) when down."""
        await self.client.execute_command("PING")  # type: ignore[no-untyped-call, unused-ignore]

    async def close(self) -> None:
        """Close the pool's connections."""
        await self.client.aclose()

    async def _script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run a script, mapping any Redis failure to `BrokerUnavailableError`."""
        self._check_open()
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._on_failure()
            raise BrokerUnavailableError(f"redis unavailable: {exc}") from exc


def validate_history(
    history_size: int, history_ttl: float, meta_ttl: float, queue_size: int
) -> None:
    """Raise `ValueError` unless history and delivery settings make sense."""
    if history_size < 0 or history_ttl <= 0 or meta_ttl < history_ttl:
        raise ValueError("need history_size >= 0 and 0 < history_ttl <= meta_ttl")
    if queue_size < 1:
        raise ValueError("need queue_size >= 1")


def validate_connection(
    min_delay: float, max_delay: float, ping_interval: float, timeout: float, connections: int
) -> None:
    """Raise `ValueError` unless reconnect, ping, timeout and pool settings make sense."""
    if not 0 < min_delay <= max_delay:
        raise ValueError("need 0 < reconnect_min_delay <= reconnect_max_delay")
    if ping_interval <= 0 or timeout <= 0:
        raise ValueError("need ping_interval > 0 and timeout > 0")
    if connections < 2:
        raise ValueError("need max_connections >= 2 (one is the pub/sub connection)")


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
