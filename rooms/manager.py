"""The rooms active on this node: loading, applying publications, publishing, side effects."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.broker import Broker, Publication
from realtime.connection import Frame
from realtime.errors import (
    BrokerUnavailableError,
    RealtimeError,
    ResyncError,
    ServerShutdownError,
)
from realtime.hub import Hub
from realtime.presence import InMemoryPresence, Presence
from rooms import breakouts, frames, liveness
from rooms.catalogue import CATALOGUE
from rooms.errors import LobbyDeniedError, RemovedError, RoomEndedError
from rooms.liveness import Liveness
from rooms.roles import RoomRole
from rooms.state import Event, RoomState
from rooms.store import RoomStore
from rooms.tokens import Admit

if TYPE_CHECKING:
    from rooms.connection import RoomConnection

logger = logging.getLogger("liveclass.rooms")
APPLY_TIMEOUT = 5.0


class _Sink:
    """The room's own channel membership: keeps the subscription while the room is loaded."""

    def offer(self, frame: Frame) -> bool:
        return True


@dataclass(eq=False)
class LiveRoom:
    """One loaded room: its state and the connections this node holds in it."""

    state: RoomState
    sink: _Sink = field(default_factory=_Sink)
    connections: set[RoomConnection] = field(default_factory=set)
    waiting: set[RoomConnection] = field(default_factory=set)
    # Sockets being let in (their holder checked, the lobby, the welcome), each with the
    # role a host gave its user meanwhile: a removal, revocation or role change reaches
    # them too, so nothing slips in between the check and the entry.
    joining: dict[RoomConnection, RoomRole | None] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    users: int = 0  # sessions holding the room (connected or connecting)
    # Held while a presence event is computed and published, so its `first` / `last` are
    # decided on a state that already holds the previous arrival or departure.
    presence: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Publishers waiting for this node to apply their publication: (offset, future).
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def everyone(self) -> list[RoomConnection]:
        """This node's connections in the room: admitted, waiting or joining."""
        return [*self.connections, *self.waiting, *self.joining]

    def local(self, user_id: str) -> list[RoomConnection]:
        """This node's connections (admitted, waiting or joining) of one user."""
        return [c for c in self.everyone() if c.user_id == user_id]


class RoomManager:
    """Loads rooms on first use, keeps their state current from the broker, drops them when idle."""

    def __init__(
        self,
        *,
        broker: Broker,
        store: RoomStore,
        sessionmaker: async_sessionmaker[AsyncSession],
        node_id: str,
        secret: str,
        admit: Admit,
        presence: Presence | None = None,
        presence_ttl: float = 25.0,
        recovery_limit: int = 1000,
    ) -> None:
        # The rooms' hub is the manager's own: every publication is applied here (and shown
        # to ``publication_observers``) before it is fanned out.
        self.hub = Hub(
            broker, render=frames.render, observe=self._observe_all, recovery_limit=recovery_limit
        )
        # Called on every publication after the manager applied it (the recorder hooks in).
        self.publication_observers: list[Callable[[Publication], None]] = []
        # Checks each join token's holder when a socket opens (room and Yjs channels).
        self.admit = admit
        self.store = store
        self.sessions = sessionmaker
        self.node_id = node_id
        self._secret = secret.encode()
        self.rooms: dict[str, LiveRoom] = {}
        self._loading: dict[str, asyncio.Future[LiveRoom | None]] = {}
        self._buffers: dict[str, list[Publication]] = {}
        self._idle = asyncio.Event()
        self.closing = False
        presence = presence or InMemoryPresence()
        interval = presence_ttl / 4
        self.liveness = Liveness(presence, manager=self, ttl=presence_ttl, interval=interval)
        # Called on every node after a room event is applied (the media side hooks in here).
        self.after_hooks: list[Callable[[LiveRoom, Event], None]] = []

    # ------------------------------------------------------------------ lifecycle

    async def acquire(self, room_id: str) -> LiveRoom | None:
        """The loaded room (loading it once if needed), held until ``release``."""
        room = self.rooms.get(room_id) or await self._load_once(room_id)
        if room is not None:
            room.users += 1
        return room

    def release(self, room: LiveRoom) -> None:
        """Drop a session's hold; the last one out unloads the room."""
        room.users -= 1
        if room.users > 0 or self.rooms.get(room.state.room_id) is not room:
            return
        del self.rooms[room.state.room_id]
        if room.timer is not None:
            room.timer.cancel()
        self.hub.leave(frames.channel(room.state.room_id), room.sink)
        if not self.rooms:
            self._idle.set()

    async def _load_once(self, room_id: str) -> LiveRoom | None:
        if room_id in self._loading:
            return await asyncio.shield(self._loading[room_id])
        future: asyncio.Future[LiveRoom | None] = asyncio.get_running_loop().create_future()
        self._loading[room_id] = future
        try:
            room = await self._load(room_id)
            future.set_result(room)
            return room
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it
            raise
        finally:
            del self._loading[room_id]

    async def _load(self, room_id: str) -> LiveRoom | None:
        sink = _Sink()
        self._buffers[room_id] = []
        channel = frames.channel(room_id)
        try:
            await self.hub.join(channel, sink)
            position = await self.hub.broker.position(channel)
            async with self.sessions() as session:
                salt = hashlib.sha256(self._secret + room_id.encode()).digest()
                state = await self.store.load(session, room_id, salt=salt)
            if state is not None:
                liveness.seed(state, await self.liveness.members(room_id))
            buffered = self._buffers.pop(room_id)
        except BaseException:
            self._buffers.pop(room_id, None)
            self.hub.leave(channel, sink)
            raise
        if state is None:
            self.hub.leave(channel, sink)
            return None
        state.offset, state.epoch = position.offset, position.epoch
        room = self.rooms[room_id] = LiveRoom(state=state, sink=sink)
        for publication in buffered:
            self.observe(publication)
        self._arm_breakout_timer(room)
        return room

    # ------------------------------------------------------------------ publishing

    async def publish(self, room_id: str, events: list[Event]) -> list[bool]:
        """Store then publish ``events`` in order; for each, whether it stood."""
        if not events:
            return []
        kept = await self.store.append(room_id, events)
        channel = frames.channel(room_id)
        last = None
        for event, keep in zip(events, kept, strict=True):
            if keep:
                last = await self._broadcast(channel, frames.encode(event)) or last
        if last is not None:
            await self._applied(room_id, last)
        return kept

    async def _applied(self, room_id: str, publication: Publication) -> None:
        """Wait until this node has applied ``publication`` (a Redis broker delivers it
        after ``publish`` returns): acks then follow their events, states are current."""
        room = self.rooms.get(room_id)
        if room is None or room.state.epoch != publication.epoch:
            return
        if room.state.offset >= publication.offset:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        room.waiters.append((publication.offset, waiter))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), APPLY_TIMEOUT)

    async def _broadcast(self, channel: str, payload: bytes) -> Publication | None:
        """Publish a stored event. Without Redis the broker still serves the rooms loaded
        here; for another room the event is stored and reaches its nodes when they resync."""
        try:
            return await self.hub.publish(channel, payload)
        except BrokerUnavailableError as exc:
            logger.warning("broker unavailable, %s not broadcast: %s", channel, exc)
            return None

    async def publish_volatile(self, room_id: str, events: Iterable[Event]) -> None:
        """Publish unsequenced, unstored events (typing, floating emoji)."""
        for event in events:
            await self._broadcast(frames.volatile_channel(room_id), frames.encode(event))

    # ------------------------------------------------------------------ applying

    def _observe_all(self, publication: Publication) -> None:
        self.observe(publication)
        for observer in self.publication_observers:
            observer(publication)

    def observe(self, publication: Publication) -> None:
        """Hub hook, before fan-out: apply a room publication to the local state."""
        if publication.channel.endswith(frames.VOLATILE_SUFFIX):
            return
        room_id = frames.room_of(publication.channel)
        if (buffer := self._buffers.get(room_id)) is not None:
            buffer.append(publication)
            return
        room = self.rooms.get(room_id)
        if room is None:
            return
        state = room.state
        if publication.epoch == state.epoch and publication.offset <= state.offset:
            return
        event: Event = orjson.loads(publication.payload)
        CATALOGUE.apply(state, event, offset=publication.offset)
        state.epoch = publication.epoch
        if room.waiters:
            self._wake(room)
        asyncio.get_running_loop().call_soon(self._after, room, event)

    @staticmethod
    def _wake(room: LiveRoom) -> None:
        still = []
        for offset, waiter in room.waiters:
            if offset <= room.state.offset:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((offset, waiter))
        room.waiters[:] = still

    def _after(self, room: LiveRoom, event: Event) -> None:
        kind = event.get("type")
        for hook in self.after_hooks:
            hook(room, event)
        if CATALOGUE.refreshes_presence(kind):
            self.liveness.touch(room.state.room_id)
        if kind == "participant.removed":
            error = RemovedError("banned from this room" if event.get("ban") else None)
            self._stop(room.local(event["user_id"]), error)
        elif kind == "participant.role" and event.get("role") in set(RoomRole):
            for conn in room.joining:
                if conn.user_id == event["user_id"]:
                    room.joining[conn] = RoomRole(event["role"])
        elif kind == "room.ended" or (kind == "breakout.closed" and event.get("parent")):
            self._stop(room.everyone(), RoomEndedError(event.get("reason")))
        elif kind == "lobby.admitted":
            for conn in room.local(event["user_id"]):
                conn.admit()
        elif kind == "lobby.denied":
            self._stop(room.local(event["user_id"]), LobbyDeniedError())
        elif kind == "breakout.opened":
            self._arm_breakout_timer(room)

    def revoke(self, user_id: str, rooms: frozenset[str] | None, error: RealtimeError) -> int:
        """Close this node's connections of ``user_id`` (in ``rooms``, or in every room) with
        ``error``; the revocation signal calls this on every node. Returns how many."""
        found = [
            conn
            for room in list(self.rooms.values())
            if rooms is None or room.state.room_id in rooms
            for conn in room.local(user_id)
        ]
        self._stop(found, error)
        return len(found)

    @staticmethod
    def _stop(connections: Iterable[RoomConnection], error: RealtimeError) -> None:
        for conn in list(connections):
            conn.stop(error)

    def _arm_breakout_timer(self, room: LiveRoom) -> None:
        info = room.state.breakouts
        if room.timer is not None:
            room.timer.cancel()
            room.timer = None
        if not info or info.get("status") != "open" or not info.get("ends_at"):
            return
        delay = (datetime.fromisoformat(info["ends_at"]) - datetime.now(UTC)).total_seconds()
        loop = asyncio.get_running_loop()
        room.timer = loop.call_later(max(0.0, delay), self._close_breakouts, room)

    def _close_breakouts(self, room: LiveRoom) -> None:
        asyncio.get_running_loop().create_task(self.close_breakouts(room))

    async def close_breakouts(self, room: LiveRoom) -> None:
        """Close the breakout rooms when their timer runs out."""
        info = room.state.breakouts
        if not info or info.get("status") != "open":
            return
        now = datetime.now(UTC).isoformat()
        await self.publish(room.state.room_id, [{"type": "breakout.closed", "at": now, "by": None}])
        for child_id, event in breakouts.closing(info, now):
            await self.publish(child_id, [event])

    # ------------------------------------------------------------------ broker resets

    def on_broker_reset(self, channel: str) -> None:
        """The broker lost a room's history: reload it and have its clients resync."""
        if channel.endswith(frames.VOLATILE_SUFFIX):
            return
        room = self.rooms.get(frames.room_of(channel))
        if room is not None:
            asyncio.get_running_loop().create_task(self._reload(room))

    async def _reload(self, room: LiveRoom) -> None:
        room_id = room.state.room_id
        position = await self.hub.broker.position(frames.channel(room_id))
        async with self.sessions() as session:
            fresh = await self.store.load(session, room_id, salt=room.state.salt)
        if fresh is None:
            return
        liveness.seed(fresh, await self.liveness.members(room_id))
        fresh.offset, fresh.epoch = position.offset, position.epoch
        room.state = fresh
        # Reconnecting clients find a new epoch and get a fresh snapshot.
        self._stop(room.everyone(), ResyncError())

    # ------------------------------------------------------------------ shutdown

    def connection_count(self) -> int:
        """Connections this node holds in rooms, admitted or waiting."""
        return sum(len(r.connections) + len(r.waiting) for r in self.rooms.values())

    async def drain(self, *, grace: float = 5.0) -> None:
        """Close every room connection with 1001 and wait (up to ``grace`` s) for them to end."""
        self.closing = True
        for room in list(self.rooms.values()):
            self._stop(room.everyone(), ServerShutdownError())
        if self.rooms:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics."""
        return {
            "rooms": float(len(self.rooms)),
            "connections": float(self.connection_count()),
        }


def now_utc() -> datetime:
    """The current time (one place, so tests of timing logic can reason about it)."""
    return datetime.now(UTC)
