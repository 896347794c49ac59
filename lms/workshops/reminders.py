"""Reminders 24 hours and 1 hour before each session, to everyone holding a seat.

A periodic job looks at the sessions starting within a day. For each it picks the reminder
due (the 1 h one inside the last hour, else the 24 h one) and notifies the seat holders
(category ``workshops``: inbox, e-mail, push as each chose) who have not had it: everyone
the first time, afterwards only those whose registration changed since (a late
registration, a confirmed promotion). The notification key names the session and the
reminder, so nobody gets the same reminder twice, however many workers run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.types import JobContext, JobType, Periodic
from lms.notifications.categories import WORKSHOPS
from lms.notifications.service import notify
from lms.workshops.seats import SEATED
from persistence.models import Workshop, WorkshopOccurrence, WorkshopRegistration
from persistence.models.base import utcnow
from settings import Settings

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
BATCH = 500


async def send_due(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Send the reminders due at ``now``; how many people were reminded."""
    async with sessions() as session:
        rows = await session.execute(
            select(WorkshopOccurrence, Workshop)
            .join(Workshop, Workshop.id == WorkshopOccurrence.workshop_id)
            .where(
                Workshop.status == "scheduled",
                WorkshopOccurrence.starts_at > now,
                WorkshopOccurrence.starts_at <= now + DAY,
            )
            .order_by(WorkshopOccurrence.starts_at, WorkshopOccurrence.id)
            .limit(BATCH)
            .with_for_update(of=WorkshopOccurrence, skip_locked=True)
        )
        sent = 0
        for occurrence, workshop in rows.tuples():
            soon = occurrence.starts_at - now <= HOUR
            since = occurrence.reminded_1h_at if soon else occurrence.reminded_24h_at
            sent += await _remind(session, workshop, occurrence, soon, since)
            if soon:
                occurrence.reminded_1h_at = now
            else:
                occurrence.reminded_24h_at = now
        await session.commit()
        return sent


async def _remind(
    session: AsyncSession,
    workshop: Workshop,
    occurrence: WorkshopOccurrence,
    soon: bool,
    since: datetime | None,
) -> int:
    query = select(WorkshopRegistration.user_id).where(
        WorkshopRegistration.workshop_id == workshop.id,
        WorkshopRegistration.status.in_(SEATED),
    )
    if since is not None:
        query = query.where(WorkshopRegistration.updated_at >= since)
    local = occurrence.starts_at.astimezone(ZoneInfo(workshop.time_zone))
    when = f"{local:%Y-%m-%d %H:%M} ({workshop.time_zone})"
    lead = "1h" if soon else "24h"
    title = f"{workshop.title} starts {'within the hour' if soon else 'within a day'}"
    count = 0
    for user_id in (await session.execute(query)).scalars():
        await notify(
            session,
            user_id,
            WORKSHOPS.name,
            title,
            f"Session {occurrence.number} of {workshop.title} starts at {when}.",
            f"/workshops/{workshop.id}",
            key=f"workshop-reminder:{occurrence.id}:{lead}",
        )
        count += 1
    return count


def periodic(settings: Settings) -> Periodic:
    """``workshops.remind`` on ``LIVECLASS_WORKSHOPS_REMINDER_SCHEDULE``."""

    async def remind(ctx: JobContext) -> None:
        await send_due(ctx.sessions, utcnow())

    job = JobType(
        "workshops.remind",
        remind,
        max_attempts=3,
        timeout=120.0,
        summary="remind seat holders 24 h and 1 h before each workshop session",
    )
    return Periodic(job, settings.workshops_reminder_schedule)
