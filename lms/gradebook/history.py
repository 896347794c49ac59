"""The grade-change history: one append-only row per change to a grade (a score, its flags,
a final-grade override, posting), with the old and new value, the actor, the reason and the
time; each change is also written to the audit log. Read back by course, by student or by
column, newest first, with cursor paging (as Canvas's grade change log)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ops.context import request_id_var
from persistence.models import AuditEvent, GradeChange
from persistence.models.base import utcnow

MAX_REASON = 500


def log_change(
    session: AsyncSession,
    *,
    course_id: uuid.UUID,
    column_id: uuid.UUID | None,
    student_id: uuid.UUID | None,
    kind: str,
    old: dict[str, Any],
    new: dict[str, Any],
    actor_id: uuid.UUID | None,
    reason: str,
) -> GradeChange:
    """Add a history row and its audit record to ``session`` (they commit with the change).
    ``kind``: ``score``, ``flags``, ``override`` or ``posting``."""
    at = utcnow()
    row = GradeChange(
        course_id=course_id,
        column_id=column_id,
        student_id=student_id,
        kind=kind,
        old=old,
        new=new,
        actor_id=actor_id,
        reason=reason[:MAX_REASON],
        at=at,
    )
    session.add(row)
    session.add(
        AuditEvent(
            at=at,
            actor_id=actor_id,
            actor_kind="user" if actor_id else "system",
            action=f"grade.{kind}",
            target_type="grade",
            target_id=f"{column_id or course_id}:{student_id or '*'}",
            outcome="success",
            request_id=request_id_var.get(),
            detail={
                "course_id": str(course_id),
                "old": old,
                "new": new,
                "reason": reason[:MAX_REASON],
            },
        )
    )
    return row


@dataclass(frozen=True)
class ChangePage:
    """One page of the history, newest first, and the id to continue before."""

    items: list[GradeChange]
    next_before: int | None


async def changes(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    student_id: uuid.UUID | None = None,
    column_id: uuid.UUID | None = None,
    before: int | None = None,
    limit: int = 50,
) -> ChangePage:
    """A page of the course's grade changes (optionally one student's, one column's)."""
    query = select(GradeChange).where(GradeChange.course_id == course_id)
    if student_id is not None:
        query = query.where(GradeChange.student_id == student_id)
    if column_id is not None:
        query = query.where(GradeChange.column_id == column_id)
    if before is not None:
        query = query.where(GradeChange.id < before)
    rows = list(
        (await session.execute(query.order_by(GradeChange.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ChangePage(rows, rows[-1].id if more and rows else None)
