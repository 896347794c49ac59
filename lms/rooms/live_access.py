"""Live access to rooms: who a join token's holder is *now*, and what ends their connections.

Two halves, both wired by the node at start-up:

- `Admission`, the node's `rooms.tokens.Admit`: when a room or Yjs socket opens, the join
  token's holder is checked against the database. The account must be active with the
  ``token_version`` the token carries (else 4001 ``signed out``); a ban, or a removal by a
  host after the token was minted, refuses it (4030); and the role is the one the room's
  membership gives today (`access.role_in`: a host's change, an invitation, the course, an
  admin), never the token's. Someone the room does not know keeps the token's start: a
  participant of an open room (through the lobby when it is on); in a room that is not
  open they are refused (4003 ``removed from the course`` for a course's room).
- `register`, which connects the app's accounts and courses hooks to the revocation signal
  (`rooms.revocation`): revoked sessions close every connection of the user (4001), and a
  removal from a course withdraws the person's invitations and roles in the course's rooms
  and closes their connections there (4003).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.accounts.revoked import RevokedHooks
from lms.auth import Principal
from lms.courses.events import CourseEvents
from lms.rooms import access
from persistence.models import Room, RoomMember, User
from realtime.errors import ForbiddenError
from rooms.errors import RemovedError
from rooms.revocation import LeftCourseError, Revocation, Revocations, SignedOutError
from rooms.roles import RoomRole
from rooms.tokens import JoinClaims


class Admission:
    """Checks a join token's holder against the database when a socket opens."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessionmaker

    async def __call__(self, claims: JoinClaims) -> JoinClaims:
        """The claims with the role (and lobby) the room gives now; raises 4001/4003/4030."""
        async with self.sessions() as session:
            user = await session.get(User, uuid.UUID(claims.user_id))
            if user is None or not user.is_active or user.token_version != claims.version:
                raise SignedOutError()
            room = await session.get(Room, uuid.UUID(claims.room_id))
            if room is None:
                raise ForbiddenError("no such room")
            member = await access.membership(session, room.id, user.id)
            if member is not None and member.banned:
                raise RemovedError("banned from this room")
            if removed_since(room, claims):
                raise RemovedError()
            role = await access.role_in(session, room, Principal(user=user))
        if role is not None:
            return replace(claims, role=role, lobby=False)
        if room.settings.get("open"):
            return replace(claims, role=RoomRole.PARTICIPANT, lobby=True)
        if room.course_id is not None:
            raise LeftCourseError()
        raise ForbiddenError("not invited to this room")


def removed_since(room: Room, claims: JoinClaims) -> bool:
    """Whether a host removed the holder from ``room`` after the token was minted."""
    removed = (room.settings.get("removals") or {}).get(claims.user_id)
    if not removed:
        return False
    return claims.issued_at is None or datetime.fromisoformat(removed) >= claims.issued_at


def register(revocations: Revocations, revoked: RevokedHooks, courses: CourseEvents) -> None:
    """Connect the app's account revocations and course removals to the node's signal."""

    def signed_out(session: AsyncSession, user: User) -> None:
        revocations.after_commit(session, Revocation(str(user.id), "signed-out"))

    async def unenrolled(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
        rooms = await leave_course_rooms(session, course_id, user_id)
        # The course itself is named too: its page documents' connections close as well.
        scopes = rooms | {str(course_id)}
        revocations.after_commit(session, Revocation(str(user_id), "course", scopes))

    async def role_changed(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
        scopes = frozenset({str(course_id)})
        revocations.after_commit(session, Revocation(str(user_id), "course-role", scopes))

    revoked.on_revoked("rooms", signed_out)
    courses.on_unenrolled("rooms", unenrolled)
    courses.on_role_changed("rooms", role_changed)


async def leave_course_rooms(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
) -> frozenset[str]:
    """Withdraw ``user_id``'s invitations and room roles (bans stay) in the course's rooms and
    their breakout rooms; return the live ones where the user now has no standing."""
    course_rooms = select(Room.id).where(Room.course_id == course_id)
    rows = await session.execute(
        select(Room).where(or_(Room.id.in_(course_rooms), Room.parent_id.in_(course_rooms)))
    )
    rooms = list(rows.scalars())
    if not rooms:
        return frozenset()
    await session.execute(
        delete(RoomMember).where(
            RoomMember.room_id.in_([r.id for r in rooms]),
            RoomMember.user_id == user_id,
            RoomMember.banned.is_(False),
        )
    )
    user = await session.get(User, user_id)
    if user is None:
        return frozenset(str(r.id) for r in rooms if r.status != "ended")
    principal = Principal(user=user)
    lost = set()
    for room in rooms:
        if room.status != "ended" and await access.role_in(session, room, principal) is None:
            lost.add(str(room.id))
    return frozenset(lost)
