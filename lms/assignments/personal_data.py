"""The assignments domain's part of privacy export and erasure: a person's submissions
(text and file ids), grades and extensions. Erasure deletes their own submissions, grades,
extensions and group memberships; a group's submission stays with the group, unattributed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import Extension, Grade, GroupMember, Submission, User


async def export_assignments(session: AsyncSession, user: User) -> dict[str, Any]:
    """The user's submissions, grades and extensions."""
    subs = await session.scalars(
        select(Submission)
        .where(Submission.user_id == user.id)
        .order_by(Submission.assignment_id, Submission.version)
    )
    grades = await session.scalars(select(Grade).where(Grade.user_id == user.id))
    extensions = await session.scalars(select(Extension).where(Extension.user_id == user.id))
    return {
        "submissions": [
            {
                "assignment_id": str(s.assignment_id),
                "version": s.version,
                "text": s.body_markdown,
                "file_ids": s.file_ids,
                "submitted_at": s.submitted_at.isoformat(),
            }
            for s in subs.all()
        ],
        "grades": [
            {
                "assignment_id": str(g.assignment_id),
                "score": None if g.score is None else str(g.score),
                "late_deduction": str(g.late_deduction),
                "posted": g.posted_at is not None,
            }
            for g in grades.all()
        ],
        "extensions": [
            {
                "assignment_id": str(e.assignment_id),
                "due_at": e.due_at.isoformat() if e.due_at else None,
                "lock_at": e.lock_at.isoformat() if e.lock_at else None,
            }
            for e in extensions.all()
        ],
    }


async def erase_assignments(session: AsyncSession, user: User) -> None:
    """Delete what is the user's alone; unattribute their group submissions."""
    await session.execute(
        delete(Submission).where(Submission.user_id == user.id, Submission.group_id.is_(None))
    )
    await session.execute(
        update(Submission).where(Submission.user_id == user.id).values(user_id=None)
    )
    await session.execute(delete(Grade).where(Grade.user_id == user.id))
    await session.execute(delete(Extension).where(Extension.user_id == user.id))
    await session.execute(delete(GroupMember).where(GroupMember.user_id == user.id))


def register(registry: PersonalData) -> None:
    """Add the assignments section to the app's personal-data registry."""
    registry.contributes("assignments", export=export_assignments, erase=erase_assignments)
