"""Presence shared by every node through Redis: a hash of entries plus a sorted set of
expiry times per channel (the Centrifugo layout), cleaned atomically on read.

After a failure, calls fail fast for `retry_after` seconds, so a paused or unreachable Redis
does not hold every arriving or leaving connection for a whole timeout."""

from __future__ import annotations

import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from realtime.errors import BrokerUnavailableError

# KEYS: hash, zset. ARGV: now. Drops expired entries, returns [client, info, ...].
_MEMBERS = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if #expired > 0 then
  redis.call('ZREM', KEYS[2], unpack(expired))
  redis.call('HDEL', KEYS[1], unpack(expired))
end
return redis.call('HGETALL', KEYS[1])
"""
# KEYS: hash, zset. ARGV: client, info, expires_at, key ttl seconds.
_ADD = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


class RedisPresence:
    """Presence entries in Redis, visible to every node."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "liveclass",
        timeout: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        self._redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = key_prefix
        self._retry_after = retry_after
        self._down_until = 0.0
        self._members = self._redis.register_script(_MEMBERS)
        self._add = self._redis.register_script(_ADD)

    def _keys(self, channel: str) -> list[str]:
        base = f"{self._prefix}:presence:{{{channel}}}"
        return [base, base + ":expiry"]

    async def add(self, channel: str, client: str, info: bytes, *, ttl: float) -> None:
        """Insert or refresh ``client`` in ``channel`` for ``ttl`` seconds."""
        expires = time.time() + ttl
        self._check()
        try:
            await self._add(
                keys=self._keys(channel), args=[client, info, expires, int(ttl * 4) + 1]
            )
        except RedisError as exc:
            raise self._failed(exc) from exc

    async def remove(self, channel: str, client: str) -> None:
        """Forget ``client``."""
        hash_key, zset_key = self._keys(channel)
        self._check()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(hash_key, client)
                pipe.zrem(zset_key, client)
                await pipe.execute()
        except RedisError as exc:
            raise self._failed(exc) from exc

    async def members(self, channel: str) -> dict[str, bytes]:
        """The unexpired clients of ``channel``."""
        self._check()
        try:
            flat = await self._members(keys=self._keys(channel), args=[time.time()])
        except RedisError as exc:
            raise self._failed(exc) from exc
        items = [bytes(x) if not isinstance(x, bytes) else x for x in flat]
        return {items[i].decode(): items[i + 1] for i in range(0, len(items), 2)}

    def _check(self) -> None:
        if time.monotonic() < self._down_until:
            raise BrokerUnavailableError("presence store unreachable")

    def _failed(self, exc: RedisError) -> BrokerUnavailableError:
        self._down_until = time.monotonic() + self._retry_after
        return BrokerUnavailableError(str(exc))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
