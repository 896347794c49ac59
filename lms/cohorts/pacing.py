"""A cohort's pacing: each paced module opens to the cohort's learners at local midnight
(in the cohort's IANA zone) of ``start_date + offset_days``.

``unlock_dates`` is what the content domain asks (lms/content/reach.py) when it decides
which modules a learner may open: for a learner in a paced cohort the cohort's date takes
the place of the module's own ``unlock_at``; learners in no cohort, and modules the cohort
does not pace, keep the course's own rules. This module reads only cohort rows, so the
content domain may import it without a cycle.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import InvalidInput
from persistence.models import Cohort, CohortMember, CohortPacing


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; 422 if there is none."""
    try:
        if "\x00" in name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(f"No such time zone: {name!r}.", field="time_zone") from exc


def opens_on(start: date, offset_days: int) -> date:
    """The local day a module paced ``offset_days`` after ``start`` opens."""
    return start + timedelta(days=offset_days)


def local_midnight(day: date, zone_name: str) -> datetime:
    """Midnight starting ``day`` in ``zone_name``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def schedule_of(cohort: Cohort, rows: list[CohortPacing]) -> dict[uuid.UUID, datetime]:
    """Module id -> when it opens to the cohort (UTC)."""
    zone_name, start = cohort.time_zone, cohort.start_date
    return {r.module_id: local_midnight(opens_on(start, r.offset_days), zone_name) for r in rows}


async def pacing_rows(session: AsyncSession, cohort_id: uuid.UUID) -> list[CohortPacing]:
    """The cohort's pacing rows, earliest first."""
    rows = await session.scalars(
        select(CohortPacing)
        .where(CohortPacing.cohort_id == cohort_id)
        .order_by(CohortPacing.offset_days, CohortPacing.module_id)
    )
    return list(rows.all())


async def cohort_of(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
) -> Cohort | None:
    """The learner's cohort in the course, if any."""
    query = (
        select(Cohort)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(CohortMember.course_id == course_id, CohortMember.user_id == user_id)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def unlock_dates(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
) -> dict[uuid.UUID, datetime]:
    """Module id -> when it opens to this learner under their cohort's pacing ({} when
    they are in no cohort of the course or it paces nothing)."""
    cohort = await cohort_of(session, course_id, user_id)
    if cohort is None:
        return {}
    return schedule_of(cohort, await pacing_rows(session, cohort.id))
