"""Access to a room's collaborative documents, decided by the join token and kept current live.

A room has two documents, `rooms/{room_id}/whiteboard` and `rooms/{room_id}/notes`. A Yjs
connection needs a join token of that room whose `docs` claim lists the document. Whether it
may write is then decided as the room channel decides every grant: from the holder's current
role under the room's current settings (`whiteboard_locked`, `notes_locked`; hosts are never
locked). The room's event channel is followed for `room.settings`, `participant.role`,
`participant.removed` and `room.ended`, so a lock turns open connections read-only at once,
an unlock or promotion gives writing back, and a removal or the end of the class closes them.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import Room, RoomMember
from realtime.connection import Frame
from realtime.errors import ForbiddenError, RealtimeError, UnauthorizedError
from realtime.hub import Hub
from realtime.yjs.channel import AccessListener
from rooms import frames
from rooms.errors import RemovedError, RoomEndedError
from rooms.roles import Grant, RoomRole, grants_for
from rooms.state import DEFAULT_SETTINGS
from rooms.tokens import JoinClaims, JoinTokenError, read

ROOM_DOCUMENT = re.compile(r"rooms/(?P<room>[0-9a-f-]{36})/(?P<kind>whiteboard|notes)")
WRITE_GRANTS: dict[str, Grant] = {"whiteboard": Grant.WHITEBOARD_WRITE, "notes": Grant.NOTES_WRITE}
_WATCHED = (
    b'"room.settings"',
    b'"participant.role"',
    b'"participant.removed"',
    b'"participant.unbanned"',
    b'"room.ended"',
)
_BREAKOUT_CLOSED = b'"breakout.closed"'


def document_name(room_id: str, kind: str) -> str:
    """The name of one of a room's documents."""
    return f"rooms/{room_id}/{kind}"


def parse_document_name(name: str) -> tuple[str, str] | None:
    """(room id, kind) of a room document's name, or None if it names no room document."""
    found = ROOM_DOCUMENT.fullmatch(name)
    if found is None:
        return None
    try:
        room_id = str(uuid.UUID(found["room"]))
    except ValueError:
        return None
    return (room_id, found["kind"]) if room_id == found["room"] else None


@dataclass(eq=False)
class RoomWatch:
    """One room's settings, roles and bans, followed from its event channel (a hub member)."""

    room_id: str
    settings: dict[str, Any]
    banned: set[str]
    ended: bool = False
    roles: dict[str, RoomRole] = field(default_factory=dict)
    accesses: set[RoomDocumentAccess] = field(default_factory=set)
    holds: int = 0

    def offer(self, frame: Frame) -> bool:
        """Hub fan-out: react to the few events that change document access."""
        data = bytes(frame) if isinstance(frame, bytes) else frame.encode()  # orjson: exact types
        if not any(marker in data for marker in _WATCHED) and _BREAKOUT_CLOSED not in data:
            return True
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return True
        self.apply(event)
        return True

    def apply(self, event: dict[str, Any]) -> None:
        """Apply one room event to the access rules and tell the affected connections."""
        kind = event.get("type")
        user = str(event.get("user_id", ""))
        if kind == "room.settings":
            self.settings.update(event.get("changes") or {})
            self._notify(self.accesses)
        elif kind == "participant.role" and event.get("role") in set(RoomRole):
            self.roles[user] = RoomRole(event["role"])
            self._notify(a for a in self.accesses if a.claims.user_id == user)
        elif kind == "participant.removed":
            if event.get("ban"):
                self.banned.add(user)
            error = RemovedError("banned from this room" if event.get("ban") else None)
            self._stop((a for a in self.accesses if a.claims.user_id == user), error)
        elif kind == "participant.unbanned":
            self.banned.discard(user)
        elif kind == "room.ended" or (kind == "breakout.closed" and event.get("parent")):
            self.ended = True
            self._stop(self.accesses, RoomEndedError())

    def role_of(self, claims: JoinClaims) -> RoomRole:
        """The holder's role now: the token's, unless a host changed it since."""
        return self.roles.get(claims.user_id, claims.role)

    @staticmethod
    def _notify(accesses: Iterable[RoomDocumentAccess]) -> None:
        for access in list(accesses):
            access.refresh()

    @staticmethod
    def _stop(accesses: Iterable[RoomDocumentAccess], error: RealtimeError) -> None:
        for access in list(accesses):
            access.revoke(error)


class RoomDocumentAccess:
    """One connection's access to one room document (a `realtime.yjs.channel.DocumentAccess`)."""

    def __init__(
        self, policy: RoomDocumentPolicy, watch: RoomWatch, claims: JoinClaims, kind: str
    ) -> None:
        self.policy = policy
        self.room = watch
        self.claims = claims
        self.grant = WRITE_GRANTS[kind]
        self.listener: AccessListener | None = None
        self._writable = self.writable
        self._closed = False

    @property
    def writable(self) -> bool:
        """Whether the holder's current role may write this document under current settings."""
        return self.grant in grants_for(self.room.role_of(self.claims), self.room.settings)

    def watch(self, listener: AccessListener) -> None:
        """Tell `listener` about later changes (relative to what `writable` says now)."""
        self.listener = listener
        self._writable = self.writable
        self.room.accesses.add(self)

    def refresh(self) -> None:
        """Re-evaluate write access and tell the connection if it changed."""
        writable = self.writable
        if writable != self._writable:
            self._writable = writable
            if self.listener is not None:
                self.listener.access_changed(writable)

    def revoke(self, error: RealtimeError) -> None:
        """Access ended (removed from the room, class over)."""
        if self.listener is not None:
            self.listener.stop(error)

    def close(self) -> None:
        """The connection ended."""
        if self._closed:
            return
        self._closed = True
        self.room.accesses.discard(self)
        self.policy.release(self.room)


class RoomDocumentPolicy:
    """Authorizes Yjs connections to room documents (the `Authorize` of the Yjs endpoint)."""

    def __init__(
        self,
        *,
        hub: Hub,
        sessionmaker: async_sessionmaker[AsyncSession],
        secret: Callable[[], str],
    ) -> None:
        self.hub = hub
        self.sessions = sessionmaker
        self.secret = secret
        self.watches: dict[str, RoomWatch] = {}
        self._loading: dict[str, asyncio.Future[RoomWatch | None]] = {}

    async def authorize(self, token: str, name: str) -> RoomDocumentAccess:
        """Check the join token against the document; raises 4001, 4003, 4010 or 4030."""
        try:
            claims = read(token, secret=self.secret())
        except JoinTokenError:
            raise UnauthorizedError("invalid or expired join token") from None
        parsed = parse_document_name(name)
        if (
            parsed is None
            or parsed[0] != claims.room_id
            or claims.documents.get(name) not in ("read", "write")
        ):
            raise ForbiddenError("the token grants no access to this document")
        watch = self.watches.get(claims.room_id) or await self._load_once(claims.room_id)
        if watch is None:
            raise ForbiddenError("no such room")
        watch.holds += 1
        access = RoomDocumentAccess(self, watch, claims, parsed[1])
        if watch.ended:
            access.close()
            raise RoomEndedError()
        if claims.user_id in watch.banned:
            access.close()
            raise RemovedError("banned from this room")
        return access

    def release(self, watch: RoomWatch) -> None:
        """Drop a connection's hold; the last one out stops following the room."""
        watch.holds -= 1
        if watch.holds > 0 or self.watches.get(watch.room_id) is not watch:
            return
        del self.watches[watch.room_id]
        self.hub.leave(frames.channel(watch.room_id), watch)

    async def _load_once(self, room_id: str) -> RoomWatch | None:
        if room_id in self._loading:
            return await asyncio.shield(self._loading[room_id])
        future: asyncio.Future[RoomWatch | None] = asyncio.get_running_loop().create_future()
        self._loading[room_id] = future
        try:
            watch = await self._load(room_id)
            future.set_result(watch)
            return watch
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._loading[room_id]

    async def _load(self, room_id: str) -> RoomWatch | None:
        """Follow the room's channel first, then read its row: no change can slip between."""
        watch = RoomWatch(room_id, settings={}, banned=set())
        channel = frames.channel(room_id)
        await self.hub.join(channel, watch)
        try:
            async with self.sessions() as session:
                room = await session.get(Room, uuid.UUID(room_id))
                banned = await session.execute(
                    select(RoomMember.user_id).where(
                        RoomMember.room_id == uuid.UUID(room_id), RoomMember.banned.is_(True)
                    )
                )
                banned_ids = {str(user) for user in banned.scalars()}
        except BaseException:
            self.hub.leave(channel, watch)
            raise
        if room is None:
            self.hub.leave(channel, watch)
            return None
        stored = {k: v for k, v in room.settings.items() if k != "breakouts"}
        # Events seen while reading are newer than the row: they win.
        watch.settings = {**DEFAULT_SETTINGS, **stored, **watch.settings}
        watch.banned |= banned_ids
        watch.ended = watch.ended or room.status == "ended"
        self.watches[room_id] = watch
        return watch
