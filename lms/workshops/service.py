"""Workshops: creating one with its sessions, reading them, and cancelling one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict, NotFound
from lms.workshops.schedule import LOCAL_FORMAT, expand
from lms.workshops.schemas import (
    OccurrenceOut,
    RegistrationOut,
    WorkshopCreate,
    WorkshopOut,
    WorkshopUpdate,
)
from lms.workshops.seats import SEATED, check_organiser, free_seat, lock_workshop
from lms.workshops.sessions import schedule_rooms
from persistence.models import Workshop, WorkshopOccurrence, WorkshopRegistration


async def create(session: AsyncSession, organiser_id: uuid.UUID, body: WorkshopCreate) -> Workshop:
    """A workshop and its materialised sessions (a bad zone or rule is a 422)."""
    sessions = expand(body.start, body.time_zone, body.duration_minutes, body.rrule)
    fields = body.model_dump(exclude={"start"})
    workshop = Workshop(
        **fields,
        organiser_id=organiser_id,
        local_start=body.start.strftime(LOCAL_FORMAT),
        first_start=sessions[0].starts_at,
        status="scheduled",
        seats_taken=0,
        arrivals=0,
    )
    session.add(workshop)
    await session.flush()
    rows = [
        WorkshopOccurrence(
            workshop_id=workshop.id, number=one.number, starts_at=one.starts_at, ends_at=one.ends_at
        )
        for one in sessions
    ]
    session.add_all(rows)
    await session.flush()
    await schedule_rooms(session, rows)
    return workshop


async def update(
    session: AsyncSession,
    workshop_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    body: WorkshopUpdate,
    now: datetime,
) -> Workshop:
    """The organiser changes the description or the seats; fewer seats than are taken is
    a 409, more are offered to the waitlist in arrival order."""
    workshop = await lock_workshop(session, workshop_id)
    check_organiser(workshop, user_id, role)
    if workshop.status != "scheduled":
        raise Conflict("This workshop is cancelled.", reason="cancelled")
    changes = body.model_dump(exclude_none=True)
    capacity = changes.pop("capacity", workshop.capacity)
    if capacity < workshop.seats_taken:
        raise Conflict(
            "More seats are taken than that.", reason="seats_taken", taken=workshop.seats_taken
        )
    for field, value in changes.items():
        setattr(workshop, field, value)
    added, workshop.capacity = capacity - workshop.capacity, capacity
    for _ in range(max(0, added)):
        workshop.seats_taken += 1
        await free_seat(session, workshop, now)
    await session.flush()
    return workshop


async def get(session: AsyncSession, workshop_id: uuid.UUID) -> Workshop:
    """The workshop; 404 if none."""
    found = await session.get(Workshop, workshop_id)
    if found is None:
        raise NotFound("No such workshop.")
    return found


async def occurrences(session: AsyncSession, workshop_id: uuid.UUID) -> list[WorkshopOccurrence]:
    """Its sessions in order."""
    rows = await session.execute(
        select(WorkshopOccurrence)
        .where(WorkshopOccurrence.workshop_id == workshop_id)
        .order_by(WorkshopOccurrence.number)
    )
    return list(rows.scalars())


async def registration_out(
    session: AsyncSession, registration: WorkshopRegistration
) -> RegistrationOut:
    """A registration with its place in the waitlist."""
    out = RegistrationOut.model_validate(registration)
    if registration.status == "waitlisted":
        ahead = await session.execute(
            select(func.count()).where(
                WorkshopRegistration.workshop_id == registration.workshop_id,
                WorkshopRegistration.status == "waitlisted",
                WorkshopRegistration.arrival < registration.arrival,
            )
        )
        out.waitlist_position = ahead.scalar_one() + 1
    return out


async def workshop_out(
    session: AsyncSession, workshop: Workshop, user_id: uuid.UUID
) -> WorkshopOut:
    """The workshop as a client sees it, with the caller's registration."""
    mine = (
        await session.execute(
            select(WorkshopRegistration).where(
                WorkshopRegistration.workshop_id == workshop.id,
                WorkshopRegistration.user_id == user_id,
            )
        )
    ).scalar_one_or_none()
    waiting = await session.scalar(
        select(func.count()).where(
            WorkshopRegistration.workshop_id == workshop.id,
            WorkshopRegistration.status == "waitlisted",
        )
    )
    return WorkshopOut(
        id=workshop.id,
        organiser_id=workshop.organiser_id,
        title=workshop.title,
        description=workshop.description,
        time_zone=workshop.time_zone,
        start=workshop.local_start,
        duration_minutes=workshop.duration_minutes,
        rrule=workshop.rrule,
        capacity=workshop.capacity,
        waitlist_capacity=workshop.waitlist_capacity,
        seats_left=max(0, workshop.capacity - workshop.seats_taken),
        waitlist_length=waiting or 0,
        cancel_cutoff_minutes=workshop.cancel_cutoff_minutes,
        confirm_minutes=workshop.confirm_minutes,
        status=workshop.status,
        first_start=workshop.first_start,
        occurrences=[
            OccurrenceOut.model_validate(o) for o in await occurrences(session, workshop.id)
        ],
        my_registration=await registration_out(session, mine) if mine else None,
    )


async def catalogue(
    session: AsyncSession,
    after: uuid.UUID | None,
    limit: int,
    *,
    now: datetime,
    text: str | None = None,
    available: bool = False,
    upcoming: bool = False,
) -> tuple[list[Workshop], uuid.UUID | None]:
    """Scheduled workshops in a stable order, a page at a time; ``text`` in the title,
    ``available``: a seat or a waitlist place is left, ``upcoming``: a session is to come."""
    query = select(Workshop).where(Workshop.status == "scheduled")
    if text:
        query = query.where(func.lower(Workshop.title).contains(text.lower(), autoescape=True))
    if available:
        waiting = (
            select(func.count())
            .where(
                WorkshopRegistration.workshop_id == Workshop.id,
                WorkshopRegistration.status == "waitlisted",
            )
            .scalar_subquery()
        )
        query = query.where(
            (Workshop.seats_taken < Workshop.capacity) | (waiting < Workshop.waitlist_capacity)
        )
    if upcoming:
        later = select(WorkshopOccurrence.id).where(
            WorkshopOccurrence.workshop_id == Workshop.id, WorkshopOccurrence.ends_at > now
        )
        query = query.where(later.exists())
    if after is not None:
        query = query.where(Workshop.id > after)
    rows = list((await session.execute(query.order_by(Workshop.id).limit(limit + 1))).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


async def registrations(
    session: AsyncSession, workshop: Workshop, after: int | None, limit: int
) -> tuple[list[WorkshopRegistration], int | None]:
    """Everyone's registration in arrival order, a page at a time (organisers only)."""
    query = select(WorkshopRegistration).where(WorkshopRegistration.workshop_id == workshop.id)
    if after is not None:
        query = query.where(WorkshopRegistration.arrival > after)
    ordered = query.order_by(WorkshopRegistration.arrival).limit(limit + 1)
    rows = list((await session.execute(ordered)).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].arrival if more else None


async def cancel_workshop(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, role: str, now: datetime
) -> Workshop:
    """The organiser cancels the workshop: every active registration is cancelled."""
    workshop = await lock_workshop(session, workshop_id)
    check_organiser(workshop, user_id, role)
    if workshop.status != "scheduled":
        raise Conflict("This workshop is already cancelled.", reason="cancelled")
    workshop.status, workshop.seats_taken = "cancelled", 0
    rows = await session.execute(
        select(WorkshopRegistration).where(
            WorkshopRegistration.workshop_id == workshop.id,
            WorkshopRegistration.status.in_((*SEATED, "waitlisted")),
        )
    )
    for registration in rows.scalars():
        registration.status, registration.offered_until = "cancelled", None
        registration.updated_at = now
    await session.flush()
    return workshop
