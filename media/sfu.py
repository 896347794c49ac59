"""The node's SFU: media rooms, their publishers, subscribers and published tracks.

Everything here is local to this node (aiortc peer connections live in this process).
``MediaRoom.listeners`` hear about tracks coming and going, whatever the cause (unpublish,
host mute, a failed or vanished peer connection), so room events are published from one
place. Recording and WHIP build on ``MediaRoom.tracks``, ``PublishedTrack.packets()`` and
``Sfu.publish``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from media import fastpath
from media.audio_level import SpeakerDetector
from media.config import MediaConfig
from media.errors import MediaUnavailable, TooManyTracks
from media.publisher import PublishedTrack, Publisher
from media.subscriber import Send, Subscriber

# (room_id, "published" | "unpublished", track, reason)
TrackListener = Callable[[str, str, PublishedTrack, str], None]
SpeakerListener = Callable[[str, str, float], None]


@dataclass(eq=False)
class MediaRoom:
    """One room's media on this node."""

    room_id: str
    tracks: dict[str, PublishedTrack] = field(default_factory=dict)  # by track_id
    publishers: dict[str, Publisher] = field(default_factory=dict)  # by conn_id
    subscribers: dict[str, Subscriber] = field(default_factory=dict)  # by conn_id
    speakers: SpeakerDetector = field(default_factory=SpeakerDetector)

    def visible_to(self, conn_id: str) -> list[PublishedTrack]:
        """The tracks a connection's subscriber receives: everyone's but its own."""
        return [t for t in self.tracks.values() if t.conn_id != conn_id and not t.ended]

    def find(self, user_id: str, source: str) -> list[PublishedTrack]:
        """The user's published tracks of ``source`` (one per connection)."""
        return [t for t in self.tracks.values() if t.user_id == user_id and t.source == source]

    @property
    def empty(self) -> bool:
        """No publisher, no subscriber: the room can be dropped."""
        return not (self.tracks or self.publishers or self.subscribers)


class Sfu:
    """Per-node registry of media rooms; forwards encoded frames, never decodes.

    The node runs ``media.fastpath.install()`` when it starts, before any peer connection.
    """

    def __init__(self, config: MediaConfig) -> None:
        self.config = config
        self.rooms: dict[str, MediaRoom] = {}
        self.track_listeners: list[TrackListener] = []
        self.speaker_listeners: list[SpeakerListener] = []
        self.closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def room(self, room_id: str) -> MediaRoom | None:
        """The media room, if anything is published or subscribed there."""
        return self.rooms.get(room_id)

    def _room(self, room_id: str) -> MediaRoom:
        if self.closing:
            raise MediaUnavailable("The server is shutting down.")
        found = self.rooms.get(room_id)
        if found is None:
            found = self.rooms[room_id] = MediaRoom(room_id)
        return found

    # ------------------------------------------------------------------ publishing

    async def publish(
        self, room_id: str, *, user_id: str, conn_id: str, sdp: str, sources: dict[str, str]
    ) -> tuple[str, list[PublishedTrack]]:
        """Apply a publisher's SDP offer (``sources``: mid -> source); return the answer.

        Replaces the connection's previous publisher peer connection (also how a client
        restarts ICE: aiortc has no ICE restart). Not tied to the room channel: WHIP uses
        it with a connection id of its own.
        """
        room = self._room(room_id)
        replaced = [t for t in room.tracks.values() if t.conn_id == conn_id]
        if len(room.tracks) - len(replaced) + len(sources) > self.config.max_tracks_per_room:
            raise TooManyTracks("This room forwards as many tracks as it may.")
        publisher = Publisher(
            user_id=user_id, conn_id=conn_id, config=self.config, on_failed=self._failed
        )
        try:
            answer = await publisher.start(sdp, sources)
        except BaseException:
            await publisher.close()
            self._drop_if_empty(room)
            raise
        await self.close_publisher(room_id, conn_id, reason="unpublished")
        room.publishers[conn_id] = publisher
        for track in publisher.tracks.values():
            track.on_audio_level = self._level_of(room)
            track.on_ended = lambda t: self.unpublish(room_id, t, "failed")
            room.tracks[track.track_id] = track
            self._notify(room, "published", track, "")
        self._refresh(room)
        return answer, list(publisher.tracks.values())

    def unpublish(self, room_id: str, track: PublishedTrack, reason: str) -> None:
        """Stop forwarding one track at once (unpublish, host mute)."""
        room = self.rooms.get(room_id)
        if room is None or room.tracks.pop(track.track_id, None) is None:
            return
        track.end()
        if track.kind == "audio":
            room.speakers.forget(track.user_id)
        self._notify(room, "unpublished", track, reason)
        self._refresh(room)

    async def close_publisher(self, room_id: str, conn_id: str, *, reason: str) -> None:
        """Close a connection's publisher peer connection, unpublishing its tracks."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        publisher = room.publishers.pop(conn_id, None)
        if publisher is None:
            return
        for track in publisher.tracks.values():
            self.unpublish(room_id, track, reason)
        await publisher.close()
        self._drop_if_empty(room)

    def _failed(self, publisher: Publisher) -> None:
        for room in self.rooms.values():
            if room.publishers.get(publisher.conn_id) is publisher:
                self._spawn(self.close_publisher(room.room_id, publisher.conn_id, reason="failed"))

    # ------------------------------------------------------------------ subscribing

    async def subscribe(self, room_id: str, *, conn_id: str, send: Send) -> Subscriber:
        """(Re)create a connection's subscriber peer connection; its offer goes to ``send``."""
        room = self._room(room_id)
        await self.close_subscriber(room_id, conn_id)
        room = self._room(room_id)
        subscriber = Subscriber(
            conn_id=conn_id,
            config=self.config,
            send=send,
            visible=lambda: room.visible_to(conn_id),
            on_failed=lambda s: self._spawn(self._close_if(room_id, s)),
        )
        room.subscribers[conn_id] = subscriber
        try:
            await subscriber.start()
        except BaseException:
            await self.close_subscriber(room_id, conn_id)
            raise
        return subscriber

    async def _close_if(self, room_id: str, subscriber: Subscriber) -> None:
        room = self.rooms.get(room_id)
        if room is not None and room.subscribers.get(subscriber.conn_id) is subscriber:
            await self.close_subscriber(room_id, subscriber.conn_id)

    async def close_subscriber(self, room_id: str, conn_id: str) -> None:
        """Close a connection's subscriber peer connection."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        subscriber = room.subscribers.pop(conn_id, None)
        if subscriber is not None:
            await subscriber.close()
        self._drop_if_empty(room)

    async def leave(self, room_id: str, conn_id: str) -> None:
        """A room connection ended: close both of its peer connections."""
        await self.close_publisher(room_id, conn_id, reason="left")
        await self.close_subscriber(room_id, conn_id)

    # ------------------------------------------------------------------ internals

    def _refresh(self, room: MediaRoom) -> None:
        for subscriber in list(room.subscribers.values()):
            self._spawn(subscriber.update())

    def _notify(self, room: MediaRoom, change: str, track: PublishedTrack, reason: str) -> None:
        for listener in self.track_listeners:
            listener(room.room_id, change, track, reason)

    def _level_of(self, room: MediaRoom) -> Callable[[PublishedTrack, int], None]:
        def heard(track: PublishedTrack, level: int) -> None:
            room.speakers.add(track.user_id, level)
            found = room.speakers.evaluate(time.monotonic())
            if found is not None:
                for listener in self.speaker_listeners:
                    listener(room.room_id, *found)

        return heard

    def _drop_if_empty(self, room: MediaRoom) -> None:
        if room.empty and self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Close every peer connection (shutdown)."""
        self.closing = True
        for room in list(self.rooms.values()):
            for conn_id in {*room.publishers, *room.subscribers}:
                await self.leave(room.room_id, conn_id)
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics (``liveclass_media{kind=…}``)."""
        rooms = list(self.rooms.values())
        tracks = [t for r in rooms for t in r.tracks.values()]
        return {
            "rooms": float(len(rooms)),
            "publishers": float(sum(len(r.publishers) for r in rooms)),
            "subscribers": float(sum(len(r.subscribers) for r in rooms)),
            "peer_connections": float(sum(len(r.publishers) + len(r.subscribers) for r in rooms)),
            "tracks": float(len(tracks)),
            "forwarding": float(sum(len(t.subscribers) for t in tracks)),
            "frames_received": float(sum(t.frames for t in tracks)),
            "keyframe_requests": float(sum(t.throttle.sent for t in tracks)),
            **fastpath.gauges(),
            "asyncio_tasks": float(_task_count()),
            "threads": float(threading.active_count()),
        }


def _task_count() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop (metrics read at start-up)
        return 0
