"""Releasing grades and overriding them: a column's grades are posted (shown to learners,
who are notified through the ``gradebook.grades_posted`` event) or hidden again, a column's
post policy changes, an instructor overrides a learner's final grade with a reason. Each
learner's change is a grade-history row."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.errors import InvalidInput
from lms.gradebook.events import GRADES_POSTED, GradesPosted
from lms.gradebook.history import log_change
from persistence.models import GradeColumn, GradeOverride, GradeScore
from persistence.models.base import utcnow

EVENT_CHUNK = 1000
"""Learners named in one event at most (a large course's posting is several events)."""
PERCENT_PLACES = Decimal("0.0001")


def _mark(
    session: AsyncSession,
    column: GradeColumn,
    rows: list[GradeScore],
    posted_at: datetime | None,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
) -> None:
    """Post (``posted_at``) or hide (None) ``rows``, each a grade-history row."""
    for row in rows:
        row.posted_at = posted_at
        log_change(
            session,
            course_id=column.course_id,
            column_id=column.id,
            student_id=row.user_id,
            kind="posting",
            old={"posted": posted_at is None},
            new={"posted": posted_at is not None},
            actor_id=actor_id,
            reason=reason,
        )


async def post(
    session: AsyncSession,
    column: GradeColumn,
    *,
    user_ids: Iterable[uuid.UUID] | None,
    actor_id: uuid.UUID | None,
    reason: str = "posted",
) -> list[uuid.UUID]:
    """Show the column's graded (or excused) cells to their learners (all, or ``user_ids``)
    that are hidden; returns the learners whose grades were released."""
    query = (
        select(GradeScore)
        .where(
            GradeScore.column_id == column.id,
            GradeScore.posted_at.is_(None),
            or_(GradeScore.score.is_not(None), GradeScore.excused.is_(True)),
        )
        .order_by(GradeScore.user_id)
        .with_for_update()
    )
    if user_ids is not None:
        query = query.where(GradeScore.user_id.in_(list(user_ids)))
    rows = list((await session.execute(query)).scalars())
    now = utcnow()
    _mark(session, column, rows, now, actor_id=actor_id, reason=reason)
    released = [row.user_id for row in rows]
    for start in range(0, len(released), EVENT_CHUNK):
        payload = GradesPosted(
            course_id=column.course_id,
            column_id=column.id,
            title=column.title,
            user_ids=released[start : start + EVENT_CHUNK],
            posted_by=actor_id,
            posted_at=now,
        )
        await emit(session, GRADES_POSTED, payload, aggregate_id=column.id)
    return released


async def hide(
    session: AsyncSession, column: GradeColumn, *, actor_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Hide the column's posted cells from their learners again (a manual policy only: an
    automatic column would show them on the next grade)."""
    if column.post_policy != "manual":
        raise InvalidInput("Set the column's post policy to manual before hiding its grades.")
    query = (
        select(GradeScore)
        .where(GradeScore.column_id == column.id, GradeScore.posted_at.is_not(None))
        .order_by(GradeScore.user_id)
        .with_for_update()
    )
    rows = list((await session.execute(query)).scalars())
    _mark(session, column, rows, None, actor_id=actor_id, reason="hidden")
    return [row.user_id for row in rows]


async def set_policy(
    session: AsyncSession, column: GradeColumn, policy: str, *, actor_id: uuid.UUID | None
) -> None:
    """Change the column's post policy; turning it automatic posts what is hidden."""
    if policy not in ("automatic", "manual"):
        raise InvalidInput("A post policy is automatic or manual.")
    column.post_policy = policy
    if policy == "automatic":
        await post(session, column, user_ids=None, actor_id=actor_id, reason="policy automatic")


async def set_override(
    session: AsyncSession,
    *,
    course_id: uuid.UUID,
    user_id: uuid.UUID,
    percent: Decimal | None,
    reason: str,
    actor_id: uuid.UUID | None,
) -> bool:
    """Override a learner's final grade with ``percent`` (None removes the override); the
    reason is required. Returns whether anything changed."""
    if not reason.strip():
        raise InvalidInput("Say why the grade is overridden.")
    row = await session.get(GradeOverride, (course_id, user_id), with_for_update=True)
    old = {"percent": None if row is None else str(row.percent.quantize(PERCENT_PLACES))}
    value = None if percent is None else percent.quantize(PERCENT_PLACES, ROUND_HALF_UP)
    new = {"percent": None if value is None else str(value)}
    if old == new:
        return False
    if value is None:
        assert row is not None
        await session.delete(row)
    elif row is None:
        session.add(
            GradeOverride(
                course_id=course_id,
                user_id=user_id,
                percent=value,
                reason=reason.strip()[:500],
                set_by=actor_id,
                set_at=utcnow(),
            )
        )
    else:
        row.percent, row.reason, row.set_by, row.set_at = (
            value,
            reason.strip()[:500],
            actor_id,
            utcnow(),
        )
    log_change(
        session,
        course_id=course_id,
        column_id=None,
        student_id=user_id,
        kind="override",
        old=old,
        new=new,
        actor_id=actor_id,
        reason=reason.strip(),
    )
    return True
