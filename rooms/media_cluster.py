"""Media signalling across nodes: each room's SFU on one node, everyone else relays to it.

``MediaSignalling`` checks grants where the participant is connected, then hands the
operation here: it runs locally when this node owns the room's media, or goes to the owner
over the relay (Redis pub/sub). The owner sends a subscriber's offers back to the node
holding that connection. Every ``interval`` a node registers its load, refreshes the leases
of the rooms it serves, and watches the owners its connections use: when one dies, one node
(whoever takes the failover key) announces the dead node's tracks as gone and clears the
placement; then every node tells its affected connections ``media.reconnect``.
WHIP ingest goes to the owner too (``rooms/media_ingest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from media.errors import MediaError
from media.placement import NodeLoad, Timing, load_of, lost_owners, plan_leases
from media.placement_store import PlacementStore, PlacementUnavailable
from media.relay import (
    Deliver,
    EndExternal,
    Leave,
    Op,
    Publish,
    PublishExternal,
    Request,
    Subscribe,
)
from media.relay_bus import RelayBus, RelayTimeout, RelayUnreachable
from media.subscriber import Send
from rooms import frames, media_events
from rooms.manager import RoomManager, now_utc
from rooms.media_ingest import Ingests

if TYPE_CHECKING:
    from rooms.connection import RoomConnection
    from rooms.media import MediaSignalling

logger = logging.getLogger("liveclass.media")
APPLIED_WAIT = 2.0  # at most this long for a relayed publish's events to reach this node


@dataclass(frozen=True)
class Remote:
    """A connection of this node whose media lives on another node."""

    room_id: str
    owner: str
    conn: RoomConnection


class MediaCluster:
    """Placement, relay and failover of one node's media."""

    def __init__(
        self,
        signalling: MediaSignalling,
        manager: RoomManager,
        *,
        url: str,
        node_id: str,
        timing: Timing,
        capacity: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.signalling = signalling
        self.manager = manager
        self.node_id = node_id
        self.timing = timing
        self.capacity = capacity
        self.timeout = timeout
        self.client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.store = PlacementStore(self.client, url, node_id=node_id, timing=timing)
        self.bus = RelayBus(
            self.client,
            node_id=node_id,
            serve=self._serve,
            on_deliver=self._on_deliver,
            timeout=timeout,
        )
        self.remote: dict[str, Remote] = {}  # by conn_id
        self.origins: dict[str, tuple[str, str]] = {}  # conn_id -> (room_id, its node)
        self.owned: set[str] = set()  # rooms whose lease this node holds
        self.ingests = Ingests(self)
        self._failing: set[tuple[str, str]] = set()
        self._judge_after = 0.0  # loop time before which no node is judged dead
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Read the relay channel, register, and run the heartbeat."""
        await self.bus.start()
        with contextlib.suppress(PlacementUnavailable):
            await self._register()
        self._task = asyncio.create_task(self._run(), name="media-placement")

    async def stop_placing(self) -> None:
        """Graceful shutdown, before the SFU closes: leave the registry, give up leases."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.store.deregister()
            for room_id in sorted(self.owned):
                await self.store.release(room_id, self.node_id)
            await self.ingests.forget_all()
        except PlacementUnavailable:
            logger.warning("media placement not released (redis unavailable)")
        self.owned.clear()

    async def close(self) -> None:
        """After the SFU closed: tell other nodes their relayed connections must reconnect."""
        for conn_id, (_room_id, origin) in list(self.origins.items()):
            await self.bus.deliver(origin, _reconnect(conn_id, "node-draining"))
        self.origins.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.close()
        await self.store.close()
        await self.client.aclose()

    # ------------------------------------------------------------------ routing

    async def execute(self, op: Op, conn: RoomConnection) -> dict[str, Any] | None:
        """Run ``op`` for a connection of this node, here or on the room's owner."""
        if isinstance(op, Leave):
            await self._leave(op, conn)
            return {}
        owner = await self.owner_of(op)
        if owner == self.node_id:
            self.remote.pop(conn.conn_id, None)
            return await self.signalling.local(op, _local_sender(conn))
        return await self._relay(owner, op, conn)

    async def owner_of(self, op: Op) -> str:
        """The node to run ``op`` on: the room's owner, placing the room on a first publish
        or subscribe; this node while Redis is down (the lease is sorted out on its return)."""
        try:
            owner = await self.store.owner(op.room_id)
            if owner is None and isinstance(op, Publish | Subscribe | PublishExternal):
                owner = await self.store.place(op.room_id)
        except PlacementUnavailable as exc:
            logger.warning("media placement unavailable, serving locally: %s", exc)
        else:
            return owner or self.node_id
        return self.node_id

    async def request(self, owner: str, op: Op) -> dict[str, Any]:
        """Run ``op`` on ``owner``; failing to reach it starts a check for failover."""
        try:
            return await self.bus.request(owner, op, within=self.timeout)
        except (RelayUnreachable, RelayTimeout):
            self._spawn(self._check(op.room_id, owner, None))
            raise

    async def _relay(self, owner: str, op: Op, conn: RoomConnection) -> dict[str, Any]:
        if isinstance(op, Publish | Subscribe):
            self.remote[conn.conn_id] = Remote(op.room_id, owner, conn)
        result = await self.request(owner, op)
        if isinstance(op, Publish):
            # Acks follow their events, as on one node.
            published = [t.get("track_id") for t in result.get("tracks", [])]
            await self._settled(op.room_id, lambda tracks: all(t in tracks for t in published))
        return result

    async def _settled(self, room_id: str, done: Callable[[dict[str, Any]], bool]) -> None:
        """Wait (bounded) until this node's copy of the room's tracks satisfies ``done``
        (events published by another node arrive through the broker)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + APPLIED_WAIT
        while loop.time() < deadline:
            room = self.manager.rooms.get(room_id)
            if room is None or done(room.state.media_tracks):
                return
            await asyncio.sleep(0.01)

    async def _leave(self, op: Leave, conn: RoomConnection) -> None:
        remote = self.remote.pop(conn.conn_id, None)
        if remote is not None:
            try:
                await self.bus.request(remote.owner, op, within=self.timeout)
            except MediaError as exc:  # the owner is gone: its peer connections went with it
                logger.info("relayed media leave failed: %s", exc.message)
        await self.signalling.local(op)

    # ------------------------------------------------------------------ the owner's side

    async def _serve(self, request: Request) -> dict[str, Any] | None:
        op, origin = request.op, request.origin
        if isinstance(op, PublishExternal | EndExternal):  # no origin kept: any node ends it
            return await self.ingests.serve(op)
        send: Send | None = None
        if isinstance(op, Publish | Subscribe):
            self.origins[op.conn_id] = (op.room_id, origin)
        if isinstance(op, Subscribe):
            send = self._remote_sender(origin, op.conn_id)
        result = await self.signalling.local(op, send)
        if isinstance(op, Leave):
            self.origins.pop(op.conn_id, None)
        return result

    def _remote_sender(self, node_id: str, conn_id: str) -> Send:
        def send(offer: dict[str, Any]) -> None:
            self._spawn(self.bus.deliver(node_id, Deliver(conn_id, "media.offer", offer)))

        return send

    def _on_deliver(self, message: Deliver) -> None:
        remote = self.remote.get(message.conn_id)
        if remote is None:
            return  # the connection left meanwhile
        if message.kind == "media.reconnect":
            del self.remote[message.conn_id]
        remote.conn.send(frames.message(message.kind, **message.fields))

    # ------------------------------------------------------------------ heartbeat

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.timing.interval)
            try:
                registered = await self._register()
                await self._refresh_leases()
                await self.ingests.refresh()
            except PlacementUnavailable as exc:
                # Judge nobody until every node had a whole TTL to register again.
                self._judge_after = loop.time() + self.timing.ttl + self.timing.interval
                logger.warning("media placement heartbeat failed: %s", exc)
                continue
            except Exception:
                logger.exception("media placement heartbeat failed")
                continue
            if loop.time() >= self._judge_after:
                self._watch(registered)

    async def _register(self) -> list[str]:
        load = NodeLoad(self.node_id, load_of(self.signalling.sfu.gauges()), self.capacity)
        await self.store.register(load)
        return [n.node_id for n in await self.store.nodes()]

    async def _refresh_leases(self) -> None:
        refresh, release = plan_leases(self.owned, self.signalling.sfu.rooms)
        for room_id in refresh:
            if await self.store.refresh(room_id):
                self.owned.add(room_id)
            else:
                self.owned.discard(room_id)
                self._spawn(self._moved(room_id))
        for room_id in release:
            await self.store.release(room_id, self.node_id)
            self.owned.discard(room_id)

    def _watch(self, registered: list[str]) -> None:
        sessions = ((r.room_id, r.owner) for r in self.remote.values())
        for room_id, owner in lost_owners(sessions, registered, self.node_id):
            self._spawn(self._check(room_id, owner, registered))
        for conn_id, (room_id, origin) in list(self.origins.items()):
            if origin not in registered and origin != self.node_id:
                self._spawn(self._drop_orphan(conn_id, room_id, origin, registered))

    async def _check(self, room_id: str, owner: str, registered: list[str] | None) -> None:
        """Fail over ``room_id`` if its owner is really dead."""
        try:
            if await self.store.dead(owner, registered):
                await self.failover(room_id, owner)
        except PlacementUnavailable as exc:
            logger.warning("media owner check failed: %s", exc)

    async def _drop_orphan(
        self, conn_id: str, room_id: str, origin: str, registered: list[str]
    ) -> None:
        """The node holding a relayed connection died: close that connection's peers here."""
        try:
            if not await self.store.dead(origin, registered):
                return
        except PlacementUnavailable:
            return
        if self.origins.pop(conn_id, None) is not None:
            await self.signalling.local(Leave(room_id, conn_id))

    # ------------------------------------------------------------------ failover

    async def failover(self, room_id: str, dead: str) -> None:
        """``dead`` owned ``room_id``'s media: clean up once (cluster-wide), then tell this
        node's affected connections to publish and subscribe again."""
        key = (room_id, dead)
        if key in self._failing:
            return
        self._failing.add(key)
        affected = [r for r in self.remote.values() if r.room_id == room_id and r.owner == dead]
        for remote in affected:
            self.remote.pop(remote.conn.conn_id, None)
        live = self.manager.rooms.get(room_id)
        stale = set(live.state.media_tracks) if live is not None else set()
        try:
            if await self.store.claim_failover(room_id, dead):
                logger.warning("media node lost", extra={"room_id": room_id, "node": dead})
                await self._unpublish_all(room_id)
                await self.store.release(room_id, dead)
            else:
                await self._released(room_id, dead)
                # The cleaning node's track_unpublished events reach our clients first.
                await self._settled(room_id, lambda tracks: not stale & set(tracks))
        except PlacementUnavailable as exc:
            logger.warning("media failover incomplete: %s", exc)
        finally:
            self._failing.discard(key)
            for remote in affected:
                remote.conn.send(frames.message("media.reconnect", reason="node-lost"))

    async def _unpublish_all(self, room_id: str) -> None:
        """Announce every track of the room gone: they all lived on the dead owner."""
        room = self.manager.rooms.get(room_id)
        if room is None:
            return
        at = now_utc().isoformat()
        tracks = list(room.state.media_tracks.values())
        events = [media_events.unpublished(t, reason="failed", at=at) for t in tracks]
        await self.manager.publish(room_id, events)

    async def _released(self, room_id: str, dead: str) -> None:
        """Wait (bounded by the lease) until the cleaning node cleared the placement, so
        connections told to reconnect find a new owner, after the old tracks' removal."""
        for _ in range(int(self.timing.lease / 0.1)):
            if await self.store.owner(room_id) != dead:
                return
            await asyncio.sleep(0.1)

    async def _moved(self, room_id: str) -> None:
        """Another node owns this room now (this one was judged dead): drop its media here;
        every connection concerned is told to reconnect."""
        logger.warning("media lease lost", extra={"room_id": room_id})
        media_room = self.signalling.sfu.room(room_id)
        if media_room is None:
            return
        conn_ids = {*media_room.publishers, *media_room.subscribers}
        live = self.manager.rooms.get(room_id)
        local = {c.conn_id: c for c in live.connections} if live is not None else {}
        for conn_id in conn_ids:
            await self.signalling.local(Leave(room_id, conn_id))
            origin = self.origins.pop(conn_id, None)
            if origin is not None:
                await self.bus.deliver(origin[1], _reconnect(conn_id, "node-lost"))
            elif conn_id in local:
                local[conn_id].send(frames.message("media.reconnect", reason="node-lost"))

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics (``liveclass_media_placement{kind=…}``)."""
        return {
            "owned_rooms": float(len(self.owned)),
            "relayed_connections": float(len(self.remote)),
            "served_for_other_nodes": float(len(self.origins)),
        }

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _local_sender(conn: RoomConnection) -> Send:
    def send(offer: dict[str, Any]) -> None:
        conn.send(frames.message("media.offer", **offer))

    return send


def _reconnect(conn_id: str, reason: str) -> Deliver:
    return Deliver(conn_id, "media.reconnect", {"reason": reason})
