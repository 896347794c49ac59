"""Rooms REST: create, list, read, change, end; invitations; join tokens; attendance."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import func, or_, select
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.courses.routes import authorize as authorize_course
from lms.deps import RoomsDep, SessionDep, SettingsDep
from lms.errors import NotFound
from lms.permissions import Permission, require
from lms.rooms import access, service
from lms.rooms.schemas import (
    AttendanceOut,
    ChatMessageOut,
    DocumentAccess,
    JoinOut,
    RoomCreate,
    RoomOut,
    RoomPage,
    RoomUpdate,
)
from persistence.models import Attendance, ChatMessage, Enrollment, Room, RoomMember, User
from persistence.models.base import utcnow
from rooms import tokens
from rooms.roles import Grant, RoomRole, grants_for
from rooms.state import DEFAULT_SETTINGS, new_event, public_settings
from rooms.tokens import JoinClaims, mint

router = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])
Creator = Annotated[Principal, Depends(require(Permission.ROOMS_CREATE))]
Member = Annotated[Principal, Depends(require(Permission.ROOMS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ROOMS_MANAGE))]
JOIN_TOKEN_TTL = tokens.TTL
DOCUMENTS = {"whiteboard": Grant.WHITEBOARD_WRITE, "notes": Grant.NOTES_WRITE}


def _out(room: Room, role: RoomRole | None) -> RoomOut:
    settings = public_settings(room.settings)
    out = RoomOut.model_validate(room)
    return out.model_copy(update={"settings": settings, "my_role": role.value if role else None})


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a live room")
async def create_room(
    body: RoomCreate, request: Request, session: SessionDep, principal: Creator
) -> RoomOut:
    """Instructors and admins create rooms; the creator is the host."""
    settings = body.model_dump(exclude={"title", "course_id"}, exclude_none=True)
    if body.course_id is not None:
        await authorize_course(session, body.course_id, principal, CourseAction.HOST_ROOMS)
    room = await service.create_room(
        session,
        title=body.title,
        created_by=principal.user_id,
        course_id=body.course_id,
        settings=settings,
    )
    audit(session, request, "room.create", target_type="room", target_id=room.id)
    await session.commit()
    return _out(room, RoomRole.HOST)


@router.get("", summary="Rooms I host, am invited to, or (admins) all")
async def list_rooms(
    session: SessionDep,
    principal: Member,
    status_filter: Annotated[Literal["open", "ended"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RoomPage:
    """Newest first; breakout rooms are listed under their parent, not here."""
    query = select(Room).where(Room.parent_id.is_(None))
    if principal.role != "admin":
        invited = select(RoomMember.room_id).where(
            RoomMember.user_id == principal.user_id, RoomMember.banned.is_(False)
        )
        courses = select(Enrollment.course_id).where(Enrollment.user_id == principal.user_id)
        query = query.where(
            or_(
                Room.created_by == principal.user_id,
                Room.id.in_(invited),
                Room.course_id.in_(courses),
            )
        )
    if status_filter:
        query = query.where(Room.status == status_filter)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(Room.created_at.desc()).limit(limit).offset(offset))
    items = [_out(r, await access.role_in(session, r, principal)) for r in rows.scalars()]
    return RoomPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{room_id}", summary="One room")
async def get_room(room_id: uuid.UUID, session: SessionDep, principal: Member) -> RoomOut:
    """Members see their rooms; anyone signed in sees an open room (the link is the key)."""
    room = await access.load_room(session, room_id)
    role = await access.role_in(session, room, principal)
    if role is None and not room.settings.get("open"):
        raise NotFound("No such room.")
    return _out(room, role)


@router.patch("/{room_id}", summary="Change a room's title or settings")
async def update_room(
    room_id: uuid.UUID,
    body: RoomUpdate,
    request: Request,
    session: SessionDep,
    principal: Manager,
    rooms: RoomsDep,
) -> RoomOut:
    """Hosts change settings; connected participants see the change at once."""
    room, role = await access.hosted_room(session, room_id, principal)
    if room.status == "ended":
        raise access.RoomGone("This class has ended.")
    changes = body.model_dump(exclude={"title"}, exclude_none=True)
    changes = {
        k: v for k, v in changes.items() if room.settings.get(k, DEFAULT_SETTINGS.get(k)) != v
    }
    at = utcnow().isoformat()
    events = []
    if body.title is not None and body.title != room.title:
        events.append(new_event("room.renamed", by=str(principal.user_id), at=at, title=body.title))
    if changes:
        events.append(new_event("room.settings", by=str(principal.user_id), at=at, changes=changes))
    audit(
        session,
        request,
        "room.update",
        target_type="room",
        target_id=room.id,
        changes={**changes, **({"title": body.title} if body.title else {})},
    )
    await session.commit()
    await rooms.publish(str(room.id), events)
    await session.refresh(room)
    return _out(room, role)


@router.post("/{room_id}/end", status_code=status.HTTP_204_NO_CONTENT, summary="End the class")
async def end_room(
    room_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, rooms: RoomsDep
) -> Response:
    """End the room for everyone: every connection closes with 'room ended'."""
    room, _ = await access.hosted_room(session, room_id, principal)
    if room.status != "ended":
        audit(session, request, "room.end", target_type="room", target_id=room.id)
        await session.commit()
        event = new_event("room.ended", by=str(principal.user_id), at=utcnow().isoformat())
        await rooms.publish(str(room.id), [event])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{room_id}/join", summary="Get a join token")
async def join(
    room_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Member,
) -> JoinOut:
    """A short-lived token for the room channel and the room's documents."""
    found = await access.entry(session, await access.load_room(session, room_id), principal)
    grants = grants_for(found.role, found.room.settings)
    room = str(found.room.id)
    documents = {
        f"rooms/{room}/{name}": "write" if grant in grants else "read"
        for name, grant in DOCUMENTS.items()
    }
    claims = JoinClaims(
        room_id=room,
        user_id=str(principal.user_id),
        name=principal.user.name,
        role=found.role,
        grants=frozenset(grants),
        lobby=found.lobby,
        documents=documents,
        version=principal.user.token_version,
    )
    token = mint(claims, secret=settings.secret_key, now=utcnow(), ttl=JOIN_TOKEN_TTL)
    base = (settings.public_url or str(request.base_url)).rstrip("/").replace("http", "ws", 1)
    return JoinOut(
        token=token,
        expires_in=int(JOIN_TOKEN_TTL.total_seconds()),
        room_id=found.room.id,
        role=found.role.value,
        grants=sorted(grants),
        lobby=found.lobby,
        ws_url=f"{base}/ws/rooms/{room}",
        documents=[
            DocumentAccess(name=name, url=f"{base}/yjs/{name}", access=mode)
            for name, mode in documents.items()
        ],
    )


@router.get(
    "/{room_id}/attendance", summary="Who attended, when (JSON or CSV)", response_model=None
)
async def attendance(
    room_id: uuid.UUID,
    session: SessionDep,
    principal: Member,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[AttendanceOut] | Response:
    """Every stay of every participant; ``format=csv`` for a spreadsheet."""
    room, _ = await access.hosted_room(session, room_id, principal)
    rows = await session.execute(
        select(Attendance, User.name)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.room_id == room.id)
        .order_by(Attendance.joined_at)
    )
    now = utcnow()
    items = [
        AttendanceOut(
            user_id=a.user_id,
            name=name,
            role=a.role,
            joined_at=a.joined_at,
            left_at=a.left_at,
            seconds=int(((a.left_at or now) - a.joined_at).total_seconds()),
        )
        for a, name in rows.all()
    ]
    if format == "json":
        return items
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["user_id", "name", "role", "joined_at", "left_at", "seconds"])
    for item in items:
        writer.writerow(
            [
                item.user_id,
                _cell(item.name),
                item.role,
                item.joined_at.isoformat(),
                item.left_at.isoformat() if item.left_at else "",
                item.seconds,
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{room.id}.csv"'},
    )


@router.get("/{room_id}/chat", summary="Chat export (JSON or CSV)", response_model=None)
async def chat_export(
    room_id: uuid.UUID,
    session: SessionDep,
    principal: Member,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[ChatMessageOut] | Response:
    """Public and to-hosts messages, oldest first (private ones stay private); hosts only."""
    room, _ = await access.hosted_room(session, room_id, principal)
    rows = await session.execute(
        select(ChatMessage)
        .where(ChatMessage.room_id == room.id, ChatMessage.to_user_id.is_(None))
        .order_by(ChatMessage.created_at)
    )
    items = [
        ChatMessageOut(
            id=m.id,
            author_id=m.author_id,
            author_name=m.author_name,
            text=m.text,
            to_hosts=m.to_hosts,
            at=m.created_at,
            edited_at=m.edited_at,
            deleted=m.deleted_at is not None,
        )
        for m in rows.scalars()
    ]
    if format == "json":
        return items
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "author", "to_hosts", "text", "edited_at", "deleted"])
    for item in items:
        writer.writerow(
            [
                item.at.isoformat(),
                _cell(item.author_name),
                item.to_hosts,
                _cell(item.text),
                item.edited_at.isoformat() if item.edited_at else "",
                item.deleted,
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="chat-{room.id}.csv"'},
    )


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas in user-controlled cells (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
