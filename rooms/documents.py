"""Access to a room's collaborative documents, decided by the room's membership and kept live.

A room has two documents, `rooms/{room_id}/whiteboard` and `rooms/{room_id}/notes`. A Yjs
connection needs a join token of that room whose `docs` claim lists the document. The holder
is then checked as on the room channel (`Admit`: the account's sessions not revoked, the role
the room's membership gives *now*, not the token's), and whether it may write is decided as
the room channel decides every grant: from that role under the room's current settings
(`whiteboard_locked`, `notes_locked`; hosts are never locked). The room's event channel is
followed for `room.settings`, `participant.role`, `participant.removed` and `room.ended`, so
a lock turns open connections read-only at once, an unlock or promotion gives writing back,
and a removal or the end of the class closes them; the revocation signal
(`rooms.revocation`) closes a person's connections when their sessions or course end.
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
from rooms.state import public_settings
from rooms.tokens import Admit, JoinClaims, JoinTokenError, read

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
    """One room's settings and bans, followed from its event channel (a hub member), and the
    accesses to its documents on this node (each knows its holder's role)."""

    room_id: str
    settings: dict[str, Any]
    banned: set[str]
    ended: bool = False
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
            for access in self.of(user):
                access.assign(RoomRole(event["role"]))
        elif kind == "participant.removed":
            if event.get("ban"):
                self.banned.add(user)
            error = RemovedError("banned from this room" if event.get("ban") else None)
            self.stop(self.of(user), error)
        elif kind == "participant.unbanned":
            self.banned.discard(user)
        elif kind == "room.ended" or (kind == "breakout.closed" and event.get("parent")):
            self.ended = True
            self.stop(self.accesses, RoomEndedError())

    def of(self, user_id: str) -> list[RoomDocumentAccess]:
        """The accesses of one user on this node."""
        return [a for a in self.accesses if a.claims.user_id == user_id]

    @staticmethod
    def _notify(accesses: Iterable[RoomDocumentAccess]) -> None:
        for access in list(accesses):
            access.refresh()

    @staticmethod
    def stop(accesses: Iterable[RoomDocumentAccess], error: RealtimeError) -> None:
        """End these accesses: their connections close with ``error``."""
        for access in list(accesses):
            access.revoke(error)


class RoomDocumentAccess:
    """One connection's access to one room document (a `realtime.yjs.channel.DocumentAccess`).

    It follows its room from the moment it is made, before the holder is checked and long
    before the connection listens: a role given, a removal or a revocation in between is
    kept (``assigned``, ``revoked``) and applies once the connection listens.
    """

    def __init__(
        self, policy: RoomDocumentPolicy, watch: RoomWatch, claims: JoinClaims, kind: str
    ) -> None:
        self.policy = policy
        self.room = watch
        self.claims = claims
        self.role = claims.role
        self.assigned = False  # a host changed the role since this access was made
        self.revoked: RealtimeError | None = None
        self.grant = WRITE_GRANTS[kind]
        self.listener: AccessListener | None = None
        self._writable = self.writable
        self._closed = False
        watch.accesses.add(self)

    @property
    def writable(self) -> bool:
        """Whether the holder's current role may write this document under current settings."""
        return self.grant in grants_for(self.role, self.room.settings)

    def admitted(self, role: RoomRole) -> None:
        """The holder's role as the database has it, unless a host changed it meanwhile."""
        if not self.assigned:
            self.role = role
            self._writable = self.writable

    def assign(self, role: RoomRole) -> None:
        """A host gave the holder ``role`` (`participant.role`)."""
        self.assigned = True
        self.role = role
        self.refresh()

    def watch(self, listener: AccessListener) -> None:
        """Tell `listener` about later changes (relative to what `writable` says now)."""
        self.listener = listener
        self._writable = self.writable
        if self.revoked is not None:
            listener.stop(self.revoked)

    def refresh(self) -> None:
        """Re-evaluate write access and tell the connection if it changed."""
        writable = self.writable
        if writable != self._writable:
            self._writable = writable
            if self.listener is not None:
                self.listener.access_changed(writable)

    def revoke(self, error: RealtimeError) -> None:
        """Access ended (removed from the room, class over, sessions revoked)."""
        if self.revoked is None:
            self.revoked = error
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
        admit: Admit,
    ) -> None:
        self.hub = hub
        self.sessions = sessionmaker
        self.secret = secret
        self.admit = admit
        self.watches: dict[str, RoomWatch] = {}
        self._loading: dict[str, asyncio.Future[RoomWatch | None]] = {}

    async def authorize(self, token: str, name: str) -> RoomDocumentAccess:
        """Check the join token against the document and its holder against the room's
        membership now; raises 4001, 4003, 4010 or 4030."""
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
        try:
            admitted = await self.admit(claims)
        except BaseException:
            access.close()
            raise
        if access.revoked is not None:  # removed or revoked while being checked
            access.close()
            raise access.revoked
        access.admitted(admitted.role)
        return access

    def revoke(self, user_id: str, rooms: frozenset[str] | None, error: RealtimeError) -> int:
        """Close this node's document connections of ``user_id`` (in ``rooms``, or in every
        room) with ``error``; the revocation signal calls this on every node."""
        found = [
            access
            for watch in list(self.watches.values())
            if rooms is None or watch.room_id in rooms
            for access in watch.of(user_id)
        ]
        RoomWatch.stop(found, error)
        return len(found)

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
        # Events seen while reading are newer than the row: they win.
        watch.settings = {**public_settings(room.settings), **watch.settings}
        watch.banned |= banned_ids
        watch.ended = watch.ended or room.status == "ended"
        self.watches[room_id] = watch
        return watch
