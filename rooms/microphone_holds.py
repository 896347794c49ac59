"""Rooms held loaded on this node while its SFU forwards a microphone of them.

With several nodes a room's media lives on one node (its placement owner), which may hold
no connection of the room: its ``RoomManager`` would not have the room loaded, so it would
neither know the room's state (are captions on? who is speaking?) nor apply the room's
events (a host's ``participant.muted`` must stop the microphone this node forwards). The
media signalling (``rooms/media.py``) holds the room here from its first microphone until
its last one ends, like a connection would, whether or not automatic captions run; they
(``rooms/auto_captions.py``) listen for the holds. On one node the speaker's connection
holds the room anyway; the extra hold costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from media.publisher import PublishedTrack
from media.sfu import Sfu
from rooms.manager import LiveRoom, RoomManager

logger = logging.getLogger("liveclass.captions")


def is_microphone(track: PublishedTrack) -> bool:
    return track.kind == "audio" and track.source == "microphone"


def microphones(sfu: Sfu, room_id: str) -> list[PublishedTrack]:
    """The microphone tracks of the room this node's SFU forwards."""
    media_room = sfu.room(room_id)
    tracks = list(media_room.tracks.values()) if media_room else []
    return [t for t in tracks if is_microphone(t)]


class MicrophoneHolds:
    """Holds (``RoomManager.acquire``) each room whose microphones this node forwards;
    each of ``held_listeners`` is called once the room is loaded for that."""

    def __init__(self, sfu: Sfu, manager: RoomManager) -> None:
        self.sfu = sfu
        self.manager = manager
        self.held: dict[str, LiveRoom] = {}  # by room id
        self.held_listeners: list[Callable[[LiveRoom], None]] = []
        self._loading: set[str] = set()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def track_changed(
        self, room_id: str, change: str, track: PublishedTrack, _reason: str = ""
    ) -> None:
        """An SFU track listener's call: hold on a first microphone, let go after the last."""
        if not is_microphone(track):
            return
        if change != "published":
            if not microphones(self.sfu, room_id) and (room := self.held.pop(room_id, None)):
                self.manager.release(room)
        elif room_id not in self.held and room_id not in self._loading and not self._closing:
            self._loading.add(room_id)
            task = asyncio.get_running_loop().create_task(self._hold(room_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _hold(self, room_id: str) -> None:
        try:
            room = await self.manager.acquire(room_id)
        except Exception:
            logger.exception("room not loaded for its media", extra={"room_id": room_id})
            return
        finally:
            self._loading.discard(room_id)
        if room is None:
            return
        if self._closing or not microphones(self.sfu, room_id) or room_id in self.held:
            self.manager.release(room)  # the microphones ended while it loaded
            return
        self.held[room_id] = room
        for listener in self.held_listeners:
            listener(room)

    async def close(self) -> None:
        """Node shutdown: let every room go."""
        self._closing = True
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for room in self.held.values():
            self.manager.release(room)
        self.held.clear()
