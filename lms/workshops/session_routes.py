"""Workshops REST, the sessions: joining a session's live room, its attendance for the
organiser, and my upcoming sessions (the calendar page)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import or_, select, tuple_
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.errors import InvalidInput, NotFound
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from lms.workshops import seats, service, sessions
from lms.workshops.schemas import (
    AttendanceRow,
    MySession,
    MySessionPage,
    SessionAttendance,
    SessionJoinOut,
)
from persistence.models import Workshop, WorkshopOccurrence, WorkshopRegistration
from persistence.models.base import utcnow

router = APIRouter(tags=["workshops"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Member = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Number = Annotated[int, Path(ge=1, le=1000, description="The session's number, from 1.")]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post(
    "/api/v1/workshops/{workshop_id}/sessions/{number}/join", summary="Join a live session"
)
async def join_session(
    workshop_id: uuid.UUID,
    number: Number,
    request: Request,
    session: SessionDep,
    principal: Member,
) -> SessionJoinOut:
    """The session's room, once open: seat holders are admitted as participants, the
    organiser hosts; the waitlisted, the unconfirmed and strangers are refused (403)."""
    workshop = await service.get(session, workshop_id)
    manages = principal.role == "admin" or workshop.organiser_id == principal.user_id
    occurrence = await sessions.join(session, workshop, number, principal.user_id, manages)
    assert occurrence.room_id is not None
    audit(
        session,
        request,
        "workshop.join",
        target_type="workshop",
        target_id=workshop.id,
        number=number,
    )
    await session.commit()
    return SessionJoinOut(
        room_id=occurrence.room_id,
        session=occurrence.number,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        host=manages,
    )


@router.get(
    "/api/v1/workshops/{workshop_id}/sessions/{number}/attendance",
    summary="A session's attendance",
)
async def session_attendance(
    workshop_id: uuid.UUID,
    number: Number,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Member,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> SessionAttendance:
    """Each seat holder, attended or absent and for how many minutes, in arrival order:
    as recorded when the session closed, or counted so far (the organiser and admins)."""
    workshop = await service.get(session, workshop_id)
    seats.check_organiser(workshop, principal.user_id, principal.role)
    occurrence = await sessions.occurrence_of(session, workshop.id, number)
    after = decode_cursor(cursor) or 0
    rows: list[tuple[int, AttendanceRow]]
    if occurrence.closed_at is not None:
        rows = [
            (
                arrival,
                AttendanceRow(
                    registration_id=a.registration_id,
                    user_id=a.user_id,
                    name=name,
                    attended=a.attended,
                    minutes=a.seconds // 60,
                    seconds=a.seconds,
                ),
            )
            for a, arrival, name in await sessions.recorded(session, occurrence)
        ]
    else:
        counted = await sessions.tally(session, occurrence, utcnow())
        names = await sessions.names(session, [t.registration.user_id for t in counted])
        rows = [
            (
                t.registration.arrival,
                AttendanceRow(
                    registration_id=t.registration.id,
                    user_id=t.registration.user_id,
                    name=names.get(t.registration.user_id, ""),
                    attended=t.attended,
                    minutes=t.seconds // 60,
                    seconds=t.seconds,
                ),
            )
            for t in counted
        ]
    page = [(arrival, row) for arrival, row in rows if arrival > after][: limit + 1]
    following = encode_cursor(page[limit - 1][0]) if len(page) > limit else None
    link_next(request, response, following)
    return SessionAttendance(
        session=occurrence.number,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        room_id=occurrence.room_id,
        final=occurrence.closed_at is not None,
        items=[row for _, row in page[:limit]],
        next=following,
    )


@router.get("/api/v1/users/me/workshop-sessions", summary="My workshop sessions")
async def my_sessions(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    since: Annotated[
        datetime | None, Query(description="Sessions ending after this (default: now).")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MySessionPage:
    """Sessions of the workshops I hold a seat or a waitlist place in, or organise, by
    start time."""
    start = utcnow()
    if since is not None and since.tzinfo is not None:
        try:
            start = since.astimezone(UTC)
        except (OverflowError, ValueError):
            raise InvalidInput("That time is out of range.") from None
    mine = (
        select(WorkshopRegistration.workshop_id, WorkshopRegistration.status)
        .where(
            WorkshopRegistration.user_id == principal.user_id,
            WorkshopRegistration.status.in_(seats.ACTIVE),
        )
        .subquery()
    )
    query = (
        select(WorkshopOccurrence, Workshop, mine.c.status)
        .join(Workshop, Workshop.id == WorkshopOccurrence.workshop_id)
        .outerjoin(mine, mine.c.workshop_id == Workshop.id)
        .where(
            Workshop.status == "scheduled",
            WorkshopOccurrence.ends_at > start,
            or_(mine.c.status.is_not(None), Workshop.organiser_id == principal.user_id),
        )
    )
    after = decode_cursor(cursor)
    if after is not None:
        last = await session.get(WorkshopOccurrence, after) if after < 2**31 else None
        if last is None:
            raise NotFound("The page this cursor continues is gone.")
        query = query.where(
            tuple_(WorkshopOccurrence.starts_at, WorkshopOccurrence.id)
            > tuple_(last.starts_at, last.id)
        )
    ordered = query.order_by(WorkshopOccurrence.starts_at, WorkshopOccurrence.id).limit(limit + 1)
    rows = list((await session.execute(ordered)).tuples())
    following = encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    link_next(request, response, following)
    items = [
        MySession(
            workshop_id=w.id,
            title=w.title,
            time_zone=w.time_zone,
            session=o.number,
            starts_at=o.starts_at,
            ends_at=o.ends_at,
            opened_at=o.opened_at,
            closed_at=o.closed_at,
            status=status or "organiser",
        )
        for o, w, status in rows[:limit]
    ]
    return MySessionPage(items=items, next=following)
