"""Media signalling on the room channel: the SFU steps of ``media.*`` commands.

``media.*`` messages go through the same dispatch, grant check and rate limit as every
other message; their pure handlers (``rooms/media_commands.py``) return the operation to
run, which the channel hands to ``MediaSignalling.perform``. Track changes, whatever their
cause, come back from the SFU as listener calls and become room events in order, per room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from media.errors import MediaError, NotSubscribed
from media.publisher import PublishedTrack
from media.relay import (
    Answer,
    EndExternal,
    Leave,
    Mute,
    Op,
    Publish,
    PublishExternal,
    Subscribe,
    Unpublish,
)
from media.sfu import Sfu
from media.subscriber import Send
from rooms import frames, media_events
from rooms.errors import Rejected
from rooms.manager import RoomManager, now_utc
from rooms.microphone_holds import MicrophoneHolds
from rooms.roles import HOST_ROLES
from rooms.state import Event

if TYPE_CHECKING:
    from rooms.connection import RoomConnection
    from rooms.manager import LiveRoom
    from rooms.media_cluster import MediaCluster

logger = logging.getLogger("liveclass.media")
OPS = (Publish, Unpublish, Subscribe, Answer, Mute)  # what media commands ask of the SFU
Performer = Callable[[Any, "RoomConnection"], Awaitable[dict[str, Any]]]


class MediaSignalling:
    """Answers ``media.*`` messages and turns SFU track changes into room events."""

    def __init__(
        self,
        sfu: Sfu,
        manager: RoomManager,
        *,
        cluster: Callable[[MediaSignalling], MediaCluster] | None = None,
    ) -> None:
        """``cluster`` builds this node's part of the media placement (several nodes over
        Redis) from the signalling; without it every room's SFU is local."""
        self.sfu = sfu
        self.manager = manager
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._by_room: dict[str, set[asyncio.Task[Any]]] = {}
        self._muted_by: dict[str, str] = {}  # track_id -> the host who muted it
        self._external: set[str] = set()  # connection ids of WHIP-style publishers
        # Effects other than relay operations, by type (Record: rooms/recording.py).
        self.performers: dict[type[Any], Performer] = {}
        # Several nodes (Redis): each room's SFU lives on one node (rooms/media_cluster.py).
        self.cluster: MediaCluster | None = cluster(self) if cluster is not None else None
        sfu.track_listeners.append(self._on_track)
        # The rooms whose microphones this node forwards stay loaded here, so that their
        # events (a host muting someone) reach this node without a connection of its own.
        self.holds = MicrophoneHolds(sfu, manager)
        sfu.track_listeners.append(self.holds.track_changed)
        manager.after_hooks.append(self._on_room_event)
        sfu.speaker_listeners.append(self._on_speaker)

    @property
    def ice_servers(self) -> list[dict[str, object]]:
        """STUN/TURN servers for browsers (RTCIceServer dicts), sent in the welcome."""
        return [server.for_browser() for server in self.sfu.config.ice_servers]

    # ------------------------------------------------------------------ the room channel

    async def perform(self, effect: object, conn: RoomConnection) -> dict[str, Any]:
        """Run the SFU step a media command's handler decided on (``rooms/media_commands``):
        a ``media.relay`` operation, here or on the room's media node, or another effect
        (``Record``: see ``performers``). Returns the ack's fields; a ``MediaError`` becomes
        the error its code names."""
        try:
            performer = self.performers.get(type(effect))
            if performer is not None:
                return await performer(effect, conn)
            if not isinstance(effect, OPS):
                raise Rejected("unsupported", f"{type(effect).__name__} is not handled here.")
            return await self.execute(effect, conn) or {}
        except MediaError as error:
            raise Rejected(error.code, error.message) from None

    # ------------------------------------------------------------------ operations

    async def execute(self, op: Op, conn: RoomConnection) -> dict[str, Any] | None:
        """Run an authorized operation here, or on the room's owner node in a cluster."""
        if self.cluster is not None:
            return await self.cluster.execute(op, conn)

        def send(offer: dict[str, Any]) -> None:
            conn.send(frames.message("media.offer", **offer))

        return await self.local(op, send)

    async def local(self, op: Op, send: Send | None = None) -> dict[str, Any]:
        """Run an operation on this node's SFU (``send`` takes a subscriber's offers)."""
        room_id = op.room_id
        if isinstance(op, Publish):
            answer, tracks = await self.sfu.publish(
                room_id, user_id=op.user_id, conn_id=op.conn_id, sdp=op.sdp, sources=op.sources
            )
            await self.flush(room_id)
            return {"sdp": answer, "tracks": [t.info() for t in tracks]}
        if isinstance(op, Unpublish):
            for track in self._tracks(room_id, conn_id=op.conn_id, source=op.source):
                self.sfu.unpublish(room_id, track, "unpublished")
            await self.flush(room_id)
            return {}
        if isinstance(op, Subscribe):
            assert send is not None
            await self.sfu.subscribe(room_id, conn_id=op.conn_id, send=send)
            return {}
        if isinstance(op, Answer):
            media_room = self.sfu.room(room_id)
            subscriber = media_room.subscribers.get(op.conn_id) if media_room else None
            if subscriber is None:
                raise NotSubscribed("Send media.subscribe first.")
            await subscriber.answer(op.version, op.sdp)
            return {}
        if isinstance(op, Mute):
            tracks = self._tracks(room_id, user_id=op.user_id, source=op.source)
            for track in tracks:
                self._muted_by[track.track_id] = op.by
                self.sfu.unpublish(room_id, track, "muted")
            await self.flush(room_id)
            return {"muted": [t.track_id for t in tracks]}
        if isinstance(op, PublishExternal):
            return await self._publish_external(op)
        if isinstance(op, EndExternal):
            await self.sfu.close_publisher(room_id, op.conn_id, reason="unpublished")
            await self.flush(room_id)
            self._external.discard(op.conn_id)
            return {}
        await self.sfu.leave(room_id, op.conn_id)
        await self.flush(room_id)
        return {}

    def _tracks(
        self, room_id: str, *, source: str, conn_id: str | None = None, user_id: str | None = None
    ) -> list[PublishedTrack]:
        media_room = self.sfu.room(room_id)
        if media_room is None:
            return []
        return [
            t
            for t in list(media_room.tracks.values())
            if t.source == source
            and (conn_id is None or t.conn_id == conn_id)
            and (user_id is None or t.user_id == user_id)
        ]

    async def leave(self, conn: RoomConnection, room: LiveRoom) -> None:
        """The connection ended: close its peer connections, announce its tracks gone."""
        await self.execute(Leave(room.state.room_id, conn.conn_id), conn)

    # ------------------------------------------------------------------ external publishers

    async def publish_external(
        self, room_id: str, *, user_id: str, conn_id: str, sdp: str, sources: dict[str, str]
    ) -> tuple[str, list[dict[str, Any]]]:
        """Publish from an SDP offer not tied to a room connection (WHIP); grants are the
        caller's to check. Returns the SDP answer and the tracks' info (in a cluster, from
        the room's owner node); end it with ``end_external``."""
        op = PublishExternal(room_id, user_id, conn_id, sdp, sources)
        if self.cluster is not None:
            result = await self.cluster.ingests.publish(op)
        else:
            result = await self._publish_external(op)
        return str(result["sdp"]), list(result["tracks"])

    async def _publish_external(self, op: PublishExternal) -> dict[str, Any]:
        self._external.add(op.conn_id)
        try:
            answer, tracks = await self.sfu.publish(
                op.room_id, user_id=op.user_id, conn_id=op.conn_id, sdp=op.sdp, sources=op.sources
            )
        except BaseException:
            self._external.discard(op.conn_id)
            raise
        await self.flush(op.room_id)
        return {"sdp": answer, "tracks": [t.info() for t in tracks]}

    async def end_external(self, room_id: str, conn_id: str, node: str = "") -> None:
        """Stop an external publisher (WHIP DELETE); ``node`` serves it in a cluster."""
        op = EndExternal(room_id, conn_id)
        if self.cluster is not None:
            await self.cluster.ingests.end(op, node)
        else:
            await self.local(op)

    # ------------------------------------------------------------------ events

    def _on_track(self, room_id: str, change: str, track: PublishedTrack, reason: str) -> None:
        at = now_utc().isoformat()
        info = track.info()
        events: list[Event]
        if change == "published":
            external = track.conn_id in self._external
            events = [media_events.published(info, at=at, external=external)]
        else:
            by = self._muted_by.pop(track.track_id, None)
            events = [media_events.unpublished(info, reason=reason, at=at, by=by)]
            if reason == "muted" and by is not None:
                events.insert(0, media_events.muted(info, by=by, at=at))
            if reason in ("failed", "left") and track.conn_id in self._external:
                media_room = self.sfu.room(room_id)
                if media_room is None or track.conn_id not in media_room.publishers:
                    self._external.discard(track.conn_id)  # a WHIP peer that went away
        self._spawn(room_id, self._publish(room_id, events))

    def _on_room_event(self, room: LiveRoom, event: Event) -> None:
        """A host's ``participant.muted`` / ``room.muted_all`` also stops the microphones
        this node forwards, at once: a muted student is silent for everyone."""
        kind = event.get("type")
        if kind not in ("participant.muted", "room.muted_all"):
            return
        state = room.state
        for track in self._tracks(state.room_id, source="microphone"):
            role = state.role_of(track.user_id)
            if kind == "participant.muted" and track.user_id != event.get("user_id"):
                continue
            if kind == "room.muted_all" and role is not None and role in HOST_ROLES:
                continue
            if event.get("by"):
                self._muted_by[track.track_id] = str(event["by"])
            self.sfu.unpublish(state.room_id, track, "muted")

    def _on_speaker(self, room_id: str, user_id: str, level: float) -> None:
        event = {"type": "media.active_speaker", "user_id": user_id, "level": level}
        self._spawn(room_id, self.manager.publish_volatile(room_id, [event]))

    async def _publish(self, room_id: str, events: list[Event]) -> None:
        lock = self._locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            try:
                await self.manager.publish(room_id, events)
            except Exception:
                logger.exception("media event not published", extra={"room_id": room_id})

    def _spawn(self, room_id: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        pending = self._by_room.setdefault(room_id, set())
        pending.add(task)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            pending.discard(finished)
            if not pending and self._by_room.get(room_id) is pending:
                del self._by_room[room_id]
                lock = self._locks.get(room_id)
                if lock is not None and not lock.locked():
                    del self._locks[room_id]

        task.add_done_callback(done)

    async def flush(self, room_id: str) -> None:
        """Wait until the room's media events so far are published (acks follow them)."""
        pending = list(self._by_room.get(room_id, ()))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def start(self) -> None:
        """Join the cluster's media placement, if there is one."""
        if self.cluster is not None:
            await self.cluster.start()

    async def close(self) -> None:
        """Close the SFU and publish what its closing announced (in a cluster: stop taking
        rooms first, and tell the nodes holding relayed connections to reconnect after)."""
        if self.cluster is not None:
            await self.cluster.stop_placing()
        await self.sfu.close()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self.holds.close()
        if self.cluster is not None:
            await self.cluster.close()
