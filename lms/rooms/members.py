"""Rooms REST, a room's membership: invitations (with their room role), role changes and bans.

The membership decides a person's role in the room everywhere, on connect and live: a role
changed here is published as `participant.role` (open connections follow at once), and
withdrawing the invitation of someone left with no standing removes them (`participant.removed`,
their sockets close 4030 and their join tokens stop working).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import select
from starlette.responses import Response

from lms.accounts.service import find_active_user
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import RoomsDep, SessionDep
from lms.errors import Conflict, Forbidden
from lms.permissions import Permission, require
from lms.rooms import access
from lms.rooms.schemas import InviteIn, MemberOut
from persistence.models import Room, RoomMember, User
from persistence.models.base import utcnow
from rooms.roles import RoomRole
from rooms.state import new_event

router = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])
Member = Annotated[Principal, Depends(require(Permission.ROOMS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ROOMS_MANAGE))]


@router.get("/{room_id}/members", summary="Invitations and bans")
async def list_members(
    room_id: uuid.UUID, session: SessionDep, principal: Member
) -> list[MemberOut]:
    """Everyone invited to or banned from the room."""
    room, _ = await access.hosted_room(session, room_id, principal)
    rows = await session.execute(
        select(RoomMember).where(RoomMember.room_id == room.id).order_by(RoomMember.created_at)
    )
    return [MemberOut.model_validate(m) for m in rows.scalars()]


@router.post("/{room_id}/members", status_code=status.HTTP_201_CREATED, summary="Invite someone")
async def invite(
    room_id: uuid.UUID,
    body: InviteIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    rooms: RoomsDep,
) -> MemberOut:
    """Invite a user with a room role, or change their role (at once, if they are in the
    room); only the host makes hosts, and nobody but the host acts on a host."""
    room, my_role = await access.hosted_room(session, room_id, principal)
    if body.role in ("host", "co-host") and my_role != RoomRole.HOST:
        raise Forbidden("Only the host may make hosts and co-hosts.")
    user = await _invitee(session, body)
    current = await access.role_in(session, room, Principal(user=user))
    if current == RoomRole.HOST and my_role != RoomRole.HOST:
        raise Forbidden("Only the host may change a host's role.")
    member = await access.membership(session, room.id, user.id)
    if member is None:
        member = RoomMember(room_id=room.id, user_id=user.id, role=body.role)
        session.add(member)
    elif member.banned:
        raise Conflict("This person is banned from the room; lift the ban first.")
    else:
        member.role = body.role
    await session.flush()
    audit(
        session,
        request,
        "room.invite",
        target_type="room",
        target_id=room.id,
        user_id=str(user.id),
        role=body.role,
    )
    await session.commit()
    before = current or (RoomRole.PARTICIPANT if room.settings.get("open") else None)
    if room.status != "ended" and before is not None and before != RoomRole(body.role):
        # The membership decides the role everywhere: open connections follow at once.
        event = new_event(
            "participant.role",
            by=str(principal.user_id),
            at=utcnow().isoformat(),
            user_id=str(user.id),
            role=body.role,
        )
        await rooms.publish(str(room.id), [event])
    return MemberOut.model_validate(member)


async def _invitee(session: SessionDep, body: InviteIn) -> User:
    return await find_active_user(session, user_id=body.user_id, email=body.email)


@router.delete(
    "/{room_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an invitation or lift a ban",
)
async def remove_member(
    room_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    rooms: RoomsDep,
) -> Response:
    """Forget the user's invitation or ban in this room; someone left with no standing in
    it (not open, no course role) is removed from it at once (4030), like a removal."""
    room, my_role = await access.hosted_room(session, room_id, principal)
    member = await access.membership(session, room.id, user_id)
    if member is not None:
        was_banned = member.banned
        if member.role == RoomRole.HOST and my_role != RoomRole.HOST and not was_banned:
            raise Forbidden("Only the host may act on a host.")
        await session.delete(member)
        # Decided before the commit: after it, reading here would hold SQLite's write lock
        # while the room's event is stored.
        stays = was_banned or room.status == "ended" or await _standing(session, room, user_id)
        audit(
            session,
            request,
            "room.uninvite",
            target_type="room",
            target_id=room.id,
            user_id=str(user_id),
            was_banned=was_banned,
        )
        await session.commit()
        if was_banned:  # the live room keeps its own ban list: lift it there too
            event = new_event(
                "participant.unbanned",
                by=str(principal.user_id),
                at=utcnow().isoformat(),
                user_id=str(user_id),
                audience={"hosts": True},
            )
            await rooms.publish(str(room.id), [event])
        elif not stays:
            event = new_event(
                "participant.removed",
                by=str(principal.user_id),
                at=utcnow().isoformat(),
                user_id=str(user_id),
                ban=False,
            )
            await rooms.publish(str(room.id), [event])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _standing(session: SessionDep, room: Room, user_id: uuid.UUID) -> bool:
    """Whether the user may still be in ``room`` (as a member, by its course, or by link)."""
    user = await session.get(User, user_id)
    if user is None:
        return False
    return bool(room.settings.get("open")) or (
        await access.role_in(session, room, Principal(user=user)) is not None
    )
