"""The workshops module's part of personal-data export and erasure.

On erasure each active registration is given up first (a seat goes to the next in the
waitlist, as if its owner had cancelled, deadline or not); the rows then go with the
account. Workshops the person organised stay, without an organiser.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from lms.workshops.seats import ACTIVE, SEATED, free_seat, lock_workshop
from persistence.models import (
    User,
    Workshop,
    WorkshopAttendance,
    WorkshopOccurrence,
    WorkshopRegistration,
)
from persistence.models.base import utcnow


async def export_workshops(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Every workshop registration of the user, with its state, then their attendance
    at each session."""
    rows = await session.execute(
        select(WorkshopRegistration, Workshop)
        .join(Workshop, Workshop.id == WorkshopRegistration.workshop_id)
        .where(WorkshopRegistration.user_id == user.id)
        .order_by(WorkshopRegistration.created_at)
    )
    return [
        {
            "workshop_id": str(w.id),
            "title": w.title,
            "status": r.status,
            "arrival": r.arrival,
            "registered_at": r.created_at.isoformat(),
        }
        for r, w in rows.all()
    ] + await _attendance(session, user)


async def _attendance(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(WorkshopAttendance, WorkshopOccurrence)
        .join(WorkshopOccurrence, WorkshopOccurrence.id == WorkshopAttendance.occurrence_id)
        .where(WorkshopAttendance.user_id == user.id)
        .order_by(WorkshopOccurrence.starts_at)
    )
    return [
        {
            "workshop_id": str(o.workshop_id),
            "session": o.number,
            "starts_at": o.starts_at.isoformat(),
            "attended": a.attended,
            "seconds": a.seconds,
        }
        for a, o in rows.all()
    ]


async def erase_workshops(session: AsyncSession, user: User) -> None:
    """Give up the user's places (seats move on), then delete their registrations."""
    rows = await session.execute(
        select(WorkshopRegistration).where(
            WorkshopRegistration.user_id == user.id, WorkshopRegistration.status.in_(ACTIVE)
        )
    )
    now = utcnow()
    for registration in list(rows.scalars()):
        workshop = await lock_workshop(session, registration.workshop_id)
        held_seat = registration.status in SEATED
        registration.status = "cancelled"
        if held_seat:
            await free_seat(session, workshop, now)
    await session.execute(delete(WorkshopAttendance).where(WorkshopAttendance.user_id == user.id))
    for registration in (
        await session.execute(
            select(WorkshopRegistration).where(WorkshopRegistration.user_id == user.id)
        )
    ).scalars():
        await session.delete(registration)
    await session.flush()


def register(registry: PersonalData) -> None:
    """Add the workshops section to the app's personal-data registry."""
    registry.contributes("workshops", export=export_workshops, erase=erase_workshops)
