"""The courses module's part of personal-data export (enrollments stay on erasure)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import Course, Enrollment, User


async def export_courses(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Every course the user is enrolled in, with their role."""
    rows = await session.execute(
        select(Enrollment, Course)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user.id)
        .order_by(Enrollment.created_at)
    )
    return [
        {
            "course_id": str(c.id),
            "code": c.code,
            "title": c.title,
            "role": e.role,
            "enrolled_at": e.created_at.isoformat(),
        }
        for e, c in rows.all()
    ]


def register(registry: PersonalData) -> None:
    """Add the courses section to the app\'s personal-data registry."""
    registry.contributes("courses", export=export_courses)
