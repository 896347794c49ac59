"""Enrolment as a service for other domains (payments): enrol a learner as a student,
remove a student; the roster routes keep their own rules for staff."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.courses.events import CourseEvents
from persistence.models import Course, Enrollment


async def enroll_student(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Enrol ``user_id`` as a student (someone enrolled already keeps their role);
    whether they were added."""
    if await session.get(Course, course_id) is None:
        return False
    found = (
        await session.execute(
            select(Enrollment).where(
                Enrollment.course_id == course_id, Enrollment.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return False
    session.add(Enrollment(course_id=course_id, user_id=user_id, role="student"))
    await session.flush()
    return True


async def unenroll_student(
    session: AsyncSession,
    course_id: uuid.UUID,
    user_id: uuid.UUID,
    events: CourseEvents | None,
) -> bool:
    """Remove ``user_id`` from the course if they are a student there (staff stay); the
    course's handlers run (their live room access ends). Whether they were removed."""
    found = (
        await session.execute(
            select(Enrollment).where(
                Enrollment.course_id == course_id, Enrollment.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if found is None or found.role != "student":
        return False
    await session.delete(found)
    await session.flush()
    if events is not None:
        await events.unenrolled(session, course_id, user_id)
    return True
