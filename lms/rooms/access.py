"""Who is what in a room: the one place that decides a user's room role and entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.auth import Principal
from lms.errors import Forbidden, LmsError, NotFound
from persistence.models import Attendance, Enrollment, Room, RoomMember
from rooms.roles import RoomRole, is_host


class RoomGone(LmsError):
    """The room has ended (410 ``room-ended``)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """How a user may enter a room: their role and whether they wait in the lobby."""

    room: Room
    role: RoomRole
    lobby: bool


async def load_room(session: AsyncSession, room_id: uuid.UUID) -> Room:
    """The room, or 404."""
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound("No such room.")
    return room


async def membership(
    session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID
) -> RoomMember | None:
    """The user's invitation or ban in the room, if any."""
    query = select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def role_in(session: AsyncSession, room: Room, principal: Principal) -> RoomRole | None:
    """The caller's standing role in ``room`` (None: not a member, maybe allowed by link).

    The room's membership comes first: a role a host gave (an invitation, or a change made
    in the room, which is stored as one) holds over the creator's, a course's or an admin's
    default, so a demotion lasts past the session it was made in.
    """
    member = await membership(session, room.id, principal.user_id)
    if member is not None:
        return None if member.banned else RoomRole(member.role)
    if room.created_by == principal.user_id:
        return RoomRole.HOST
    if principal.role == "admin":
        return RoomRole.CO_HOST
    if room.course_id is not None and (by_course := await _course_role(session, room, principal)):
        return by_course
    if room.parent_id is not None:
        return await _breakout_role(session, room, principal)
    return None


# A course's people get these roles in the course's rooms.
COURSE_TO_ROOM = {
    "instructor": RoomRole.HOST,
    "ta": RoomRole.CO_HOST,
    "student": RoomRole.PARTICIPANT,
    "observer": RoomRole.OBSERVER,
}


async def _course_role(session: AsyncSession, room: Room, principal: Principal) -> RoomRole | None:
    query = select(Enrollment.role).where(
        Enrollment.course_id == room.course_id, Enrollment.user_id == principal.user_id
    )
    found = (await session.execute(query)).scalar_one_or_none()
    return COURSE_TO_ROOM.get(found) if found else None


async def _breakout_role(
    session: AsyncSession, room: Room, principal: Principal
) -> RoomRole | None:
    parent = await session.get(Room, room.parent_id)
    if parent is None:
        return None
    parent_role = await role_in(session, parent, principal)
    if parent_role is not None and is_host(parent_role):
        return parent_role
    breakouts = parent.settings.get("breakouts") or {}
    rooms = [r["id"] for r in breakouts.get("rooms", [])]
    index = breakouts.get("assignments", {}).get(str(principal.user_id))
    assigned = index is not None and index < len(rooms) and rooms[index] == str(room.id)
    if not assigned:
        return None
    # An assignment holds only while the person may still be in the main room.
    if parent_role is not None:
        return RoomRole.PARTICIPANT
    member = await membership(session, parent.id, principal.user_id)  # with no role: a ban
    return RoomRole.PARTICIPANT if parent.settings.get("open") and member is None else None


async def _attended(session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    query = select(Attendance.id).where(
        Attendance.room_id == room_id, Attendance.user_id == user_id
    )
    return (await session.execute(query.limit(1))).first() is not None


async def require_host(session: AsyncSession, room: Room, principal: Principal) -> RoomRole:
    """The caller's role if they run the room; 404 if they cannot see it, else 403."""
    role = await role_in(session, room, principal)
    if role is None and not room.settings.get("open"):
        raise NotFound("No such room.")
    if role is None or not is_host(role):
        raise Forbidden("Only the room's hosts may do this.")
    return role


async def hosted_room(
    session: AsyncSession, room_id: uuid.UUID, principal: Principal
) -> tuple[Room, RoomRole]:
    """The room and the caller's role in it, for actions only its hosts may take (404/403)."""
    room = await load_room(session, room_id)
    return room, await require_host(session, room, principal)


async def entry(session: AsyncSession, room: Room, principal: Principal) -> Entry:
    """Decide whether and how the caller may join ``room`` now."""
    member = await membership(session, room.id, principal.user_id)
    if member is not None and member.banned:
        raise Forbidden("You were removed from this room.")
    if room.status == "ended":
        raise RoomGone("This class has ended.")
    role = await role_in(session, room, principal)
    settings = room.settings
    if role is not None and is_host(role):
        return Entry(room, role, lobby=False)
    if role is None and not settings.get("open"):
        raise NotFound("No such room, or you are not invited.")
    if settings.get("locked") and not await _attended(session, room.id, principal.user_id):
        raise Forbidden("The room is locked.")
    return Entry(
        room, role or RoomRole.PARTICIPANT, lobby=bool(settings.get("lobby")) and role is None
    )


async def hosts(session: AsyncSession, room_id: uuid.UUID) -> tuple[Room | None, list[uuid.UUID]]:
    """The room and the people who run it: its creator and its invited hosts and
    co-hosts (not banned), creator first; (None, []) for an unknown room."""
    room = await session.get(Room, room_id)
    if room is None:
        return None, []
    rows = await session.execute(
        select(RoomMember.user_id)
        .where(
            RoomMember.room_id == room_id,
            RoomMember.banned.is_(False),
            RoomMember.role.in_([r.value for r in RoomRole if is_host(r)]),
        )
        .order_by(RoomMember.created_at, RoomMember.user_id)
    )
    found = [room.created_by]
    found += [user_id for user_id in rows.scalars() if user_id != room.created_by]
    return room, found
