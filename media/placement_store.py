"""Media placement in Redis: the node registry (with load, TTL) and the per-room owner lease.

The registry is presence under one channel (``RedisPresence``: entries with expiry times);
placements are plain keys set with ``SET NX PX`` and refreshed or released by their owner
with compare-and-set scripts, so a node never extends or deletes another node's lease.
A WHIP ingest's record (which node serves it) is a key its serving node rewrites each beat.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from media.placement import (
    REGISTRY,
    NodeLoad,
    Timing,
    choose,
    decode_load,
    failover_key,
    is_dead,
    relay_channel,
    room_key,
)
from media.whip import record_key
from realtime.errors import BrokerUnavailableError
from realtime.redis_presence import RedisPresence

logger = logging.getLogger("liveclass.media")

# KEYS: placement. ARGV: node, lease ms. Keep (or take back after a Redis restart) my lease.
_REFRESH = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# KEYS: placement. ARGV: node. Delete the placement only if it still names that node.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class PlacementUnavailable(Exception):
    """Redis did not answer a placement or registry call."""


class PlacementStore:
    """This node's view of the registry and of room placements."""

    def __init__(self, client: Redis, url: str, *, node_id: str, timing: Timing) -> None:
        self.client = client
        self.node_id = node_id
        self.timing = timing
        self._registry = RedisPresence(url)
        self._refresh = client.register_script(_REFRESH)
        self._release = client.register_script(_RELEASE)

    # ------------------------------------------------------------------ registry

    async def register(self, load: NodeLoad) -> None:
        """Insert or refresh this node's entry for one TTL."""
        try:
            await self._registry.add(REGISTRY, self.node_id, load.encode(), ttl=self.timing.ttl)
        except BrokerUnavailableError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    async def deregister(self) -> None:
        """Leave the registry (graceful shutdown): no new room is placed here."""
        try:
            await self._registry.remove(REGISTRY, self.node_id)
        except BrokerUnavailableError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    async def nodes(self) -> list[NodeLoad]:
        """The registered (unexpired) nodes and their loads."""
        try:
            members = await self._registry.members(REGISTRY)
        except BrokerUnavailableError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        found = [decode_load(node, raw) for node, raw in members.items()]
        return [n for n in found if n is not None]

    async def dead(self, node_id: str, registered: list[str] | None = None) -> bool:
        """Whether ``node_id`` is gone: out of the registry and off its relay channel."""
        if registered is None:
            registered = [n.node_id for n in await self.nodes()]
        if node_id in registered:
            return False
        try:
            counts = await self.client.pubsub_numsub(relay_channel(node_id))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        return is_dead(node_id, registered, int(counts[0][1]) if counts else 0)

    # ------------------------------------------------------------------ placements

    async def owner(self, room_id: str) -> str | None:
        """The node owning ``room_id``'s media, if placed."""
        try:
            found = await self.client.get(room_key(room_id))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        return found.decode() if isinstance(found, bytes) else found

    async def place(self, room_id: str) -> str:
        """Choose an owner by load and record it (first writer wins); return the owner."""
        chosen = choose(room_id, await self.nodes()) or self.node_id
        lease_ms = int(self.timing.lease * 1000)
        try:
            if await self.client.set(room_key(room_id), chosen, nx=True, px=lease_ms):
                logger.info("media placed", extra={"room_id": room_id, "node": chosen})
                return chosen
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        return await self.owner(room_id) or chosen

    async def refresh(self, room_id: str) -> bool:
        """Extend this node's lease on ``room_id`` (False: another node owns it now)."""
        lease_ms = int(self.timing.lease * 1000)
        try:
            kept = await self._refresh(keys=[room_key(room_id)], args=[self.node_id, lease_ms])
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        return bool(kept)

    async def release(self, room_id: str, node_id: str) -> bool:
        """Delete the placement if it still names ``node_id``."""
        try:
            return bool(await self._release(keys=[room_key(room_id)], args=[node_id]))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    async def claim_failover(self, room_id: str, dead: str) -> bool:
        """Whether this node is the one that cleans up after ``dead`` lost ``room_id``."""
        ttl_ms = int(self.timing.lease * 1000)
        try:
            key = failover_key(room_id, dead)
            return bool(await self.client.set(key, self.node_id, nx=True, px=ttl_ms))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    # ------------------------------------------------------------------ WHIP sessions

    async def save_ingest(self, conn_id: str, record: bytes) -> None:
        """Write (or rewrite, as a refresh) a WHIP ingest's record for one lease."""
        try:
            await self.client.set(record_key(conn_id), record, px=int(self.timing.lease * 1000))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    async def ingest(self, conn_id: str) -> bytes | None:
        """A WHIP ingest's record, if it lives."""
        try:
            found = await self.client.get(record_key(conn_id))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc
        return found if isinstance(found, bytes) else None

    async def drop_ingest(self, conn_id: str) -> None:
        """Delete a WHIP ingest's record (it ended)."""
        try:
            await self.client.delete(record_key(conn_id))
        except RedisError as exc:
            raise PlacementUnavailable(str(exc)) from exc

    async def close(self) -> None:
        """Close the registry's connection pool (the shared client is closed by its owner)."""
        await self._registry.close()
