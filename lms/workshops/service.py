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
)
from lms.workshops.seats import SEATED, check_organiser, lock_workshop
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
    for one in sessions:
        session.add(
            WorkshopOccurrence(
                workshop_id=workshop.id,
                number=one.number,
                starts_at=one.starts_at,
                ends_at=one.ends_at,
            )
        )
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
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> tuple[list[Workshop], uuid.UUID | None]:
    """Scheduled workshops in a stable order, a page at a time."""
    query = select(Workshop).where(Workshop.status == "scheduled")
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
