"""The gradebook's part of personal-data export and erasure.

Export: the person's released grades (posted cells: a grade not yet posted is still being
worked on and is released with its column), final-grade overrides, and the grade-change
history about them once the cell is posted. Erasure: their cells, overrides and the history
about them go; changes they made to others' grades stay, without their name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import GradeChange, GradeColumn, GradeOverride, GradeScore, User


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


async def export_grades(session: AsyncSession, user: User) -> dict[str, Any]:
    """The user's posted grades, overrides and the history of their posted grades."""
    rows = await session.execute(
        select(GradeScore, GradeColumn)
        .join(GradeColumn, GradeColumn.id == GradeScore.column_id)
        .where(GradeScore.user_id == user.id, GradeScore.posted_at.is_not(None))
        .order_by(GradeColumn.course_id, GradeColumn.position)
    )
    posted = rows.all()
    grades = [
        {
            "course_id": str(c.course_id),
            "column": c.title,
            "points_possible": str(c.points_possible),
            "score": None if s.score is None else str(s.score),
            "excused": s.excused,
            "missing": s.missing,
            "late": s.late,
            "submitted_at": _time(s.submitted_at),
            "graded_at": _time(s.graded_at),
            "posted_at": _time(s.posted_at),
        }
        for s, c in posted
    ]
    overrides = [
        {
            "course_id": str(o.course_id),
            "percent": str(o.percent),
            "reason": o.reason,
            "set_at": _time(o.set_at),
        }
        for o in (
            await session.execute(select(GradeOverride).where(GradeOverride.user_id == user.id))
        ).scalars()
    ]
    visible = [c.id for _, c in posted]
    changes = await session.execute(
        select(GradeChange)
        .where(
            GradeChange.student_id == user.id,
            GradeChange.column_id.in_(visible) | GradeChange.column_id.is_(None),
        )
        .order_by(GradeChange.id)
    )
    history = [
        {
            "course_id": str(h.course_id),
            "column_id": None if h.column_id is None else str(h.column_id),
            "kind": h.kind,
            "old": h.old,
            "new": h.new,
            "reason": h.reason,
            "at": _time(h.at),
        }
        for h in changes.scalars()
    ]
    return {"grades": grades, "overrides": overrides, "history": history}


async def erase_grades(session: AsyncSession, user: User) -> None:
    """Delete the user's cells, overrides and history; unname their changes to others'."""
    await session.execute(delete(GradeScore).where(GradeScore.user_id == user.id))
    await session.execute(delete(GradeOverride).where(GradeOverride.user_id == user.id))
    await session.execute(delete(GradeChange).where(GradeChange.student_id == user.id))
    await session.execute(
        update(GradeChange).where(GradeChange.actor_id == user.id).values(actor_id=None)
    )
    await session.execute(
        update(GradeScore).where(GradeScore.grader_id == user.id).values(grader_id=None)
    )
    await session.execute(
        update(GradeOverride).where(GradeOverride.set_by == user.id).values(set_by=None)
    )


def register(registry: PersonalData) -> None:
    """Add the gradebook section to the app's personal-data registry."""
    registry.contributes("gradebook", export=export_grades, erase=erase_grades)
