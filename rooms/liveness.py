"""Cross-node presence for rooms: heartbeats, seeding late-loading nodes, sweeping the dead.

Every node keeps a presence entry per local connection (refreshed every ``interval`` s,
expiring after ``ttl`` s). A node that loads a room seeds its participants (with their
status and raised hands) from those entries; every node drops connections whose entries
expired (their node died) by publishing ``presence.disconnected`` for them.

After the presence store was unreachable (a Redis outage or restart), no node sweeps until it
has refreshed its entries for a whole ``ttl``: every live node has re-registered by then, so
an entry missing after the outage means a dead connection, not a slow heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from realtime.errors import BrokerUnavailableError
from realtime.presence import Presence
from rooms import frames, presence
from rooms.catalogue import apply
from rooms.state import RoomState

if TYPE_CHECKING:
    from rooms.connection import RoomConnection
    from rooms.manager import LiveRoom, RoomManager

logger = logging.getLogger("liveclass.rooms")


def entry(conn: RoomConnection, state: RoomState, node: str) -> bytes:
    """What other nodes learn about one connection: who, which role, status, hand."""
    found = state.participants.get(conn.user_id)
    hand = next((h["at"] for h in state.hands if h["user_id"] == conn.user_id), None)
    return _exact(
        orjson.dumps(
            {
                "user_id": conn.user_id,
                "name": conn.claims.name,
                "role": found.role.value if found else conn.claims.role.value,
                "node": node,
                "joined_at": found.joined_at if found else datetime.now(UTC).isoformat(),
                "camera": bool(found and found.camera),
                "mic": bool(found and found.mic),
                "screen": bool(found and found.screen),
                "away": bool(found and found.away),
                "hand_at": hand,
            }
        )
    )


def _exact(encoded: bytes) -> bytes:
    """A tight copy of orjson output that will be kept (its buffer over-allocates)."""
    return bytes(memoryview(encoded))


def seed(state: RoomState, members: dict[str, bytes]) -> None:
    """Put connections known to other nodes into a freshly loaded state (no events)."""
    hands: list[tuple[str, str]] = []
    for conn_id, raw in members.items():
        info: dict[str, Any] = orjson.loads(raw)
        user = {k: info[k] for k in ("user_id", "name", "role")}
        connected = {
            "type": "presence.connected",
            "at": info["joined_at"],
            "user": user,
            "conn_id": conn_id,
            "node": info["node"],
            "first": False,
        }
        apply(state, connected, offset=state.offset)
        status = {k: info[k] for k in presence.STATUS_FIELDS if k in info}
        apply(
            state,
            {"type": "participant.status", "user_id": info["user_id"], **status},
            offset=state.offset,
        )
        if info.get("hand_at"):
            hands.append((info["hand_at"], info["user_id"]))
    for at, user_id in sorted(set(hands)):
        if not any(h["user_id"] == user_id for h in state.hands):
            state.hands.append({"user_id": user_id, "at": at})


class Liveness:
    """The heartbeat and sweeper of one node."""

    def __init__(
        self, store: Presence, *, manager: RoomManager, ttl: float = 25.0, interval: float = 10.0
    ) -> None:
        self.store = store
        self.manager = manager
        self.ttl = ttl
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._dirty: set[str] = set()
        self._sweep_after = 0.0  # loop time before which sweeping is unsafe

    def start(self) -> None:
        """Run the heartbeat loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="room-liveness")

    async def close(self) -> None:
        """Stop the heartbeat."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def members(self, room_id: str) -> dict[str, bytes]:
        """Live connections of a room on every node (empty if presence is unreachable)."""
        try:
            return await self.store.members(frames.channel(room_id))
        except BrokerUnavailableError:
            logger.warning("presence unavailable", extra={"room_id": room_id})
            return {}

    async def arrive(self, conn: RoomConnection, room: LiveRoom) -> None:
        """Register a connection before its arrival is published (so no sweep races it)."""
        with contextlib.suppress(BrokerUnavailableError):
            await self.store.add(
                frames.channel(room.state.room_id),
                conn.conn_id,
                entry(conn, room.state, self.manager.node_id),
                ttl=self.ttl,
            )

    async def depart(self, conn: RoomConnection, room: LiveRoom) -> None:
        """Forget a connection that left cleanly."""
        with contextlib.suppress(BrokerUnavailableError):
            await self.store.remove(frames.channel(room.state.room_id), conn.conn_id)

    def touch(self, room_id: str) -> None:
        """A participant's status or hand changed: refresh this room's entries soon."""
        if room_id not in self._dirty:
            self._dirty.add(room_id)
            asyncio.get_running_loop().call_soon(self._refresh_soon, room_id)

    def _refresh_soon(self, room_id: str) -> None:
        self._dirty.discard(room_id)
        room = self.manager.rooms.get(room_id)
        if room is not None:
            asyncio.get_running_loop().create_task(self._refresh(room))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            for room in list(self.manager.rooms.values()):
                try:
                    await self._refresh(room)
                    if loop.time() >= self._sweep_after:
                        await self._sweep(room)
                except BrokerUnavailableError:
                    # Sweep again only once every node had a ttl to refresh its entries.
                    self._sweep_after = loop.time() + self.ttl + self.interval
                    logger.warning("presence heartbeat failed", extra={"room": room.state.room_id})
                except Exception:
                    logger.exception("presence heartbeat failed")

    async def _refresh(self, room: LiveRoom) -> None:
        channel = frames.channel(room.state.room_id)
        for conn in list(room.connections):
            if conn.pending is None:  # admitted and live
                await self.store.add(
                    channel,
                    conn.conn_id,
                    entry(conn, room.state, self.manager.node_id),
                    ttl=self.ttl,
                )

    async def _sweep(self, room: LiveRoom) -> None:
        alive = set(await self.store.members(frames.channel(room.state.room_id)))
        local = {c.conn_id for c in room.connections}
        dead = [
            (user_id, conn_id)
            for user_id, participant in list(room.state.participants.items())
            for conn_id in list(participant.connections)
            if conn_id not in alive and conn_id not in local
        ]
        await self._bury(room, dead)

    async def _bury(self, room: LiveRoom, dead: Iterable[tuple[str, str]]) -> None:
        for user_id, conn_id in dead:
            async with room.presence:
                if conn_id not in getattr(room.state.participants.get(user_id), "connections", {}):
                    continue
                event = presence.disconnected(
                    room.state, user_id=user_id, conn_id=conn_id, now=datetime.now(UTC)
                )
                event["reason"] = "node lost"
                await self.manager.publish(room.state.room_id, [event])
