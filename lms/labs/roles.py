"""Who someone is in a lab, read from the database: ``staff`` (the course's instructors and
TAs, and admins), ``learner`` (its students) or nobody."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Enrollment, Lab, User

LabRole = Literal["staff", "learner"]


async def role_in(session: AsyncSession, user: User, lab: Lab) -> LabRole | None:
    """``user``'s role in ``lab`` now."""
    if user.role == "admin":
        return "staff"
    found = await session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == lab.course_id, Enrollment.user_id == user.id
        )
    )
    if found in ("instructor", "ta"):
        return "staff"
    if found == "student":
        return "learner"
    return None


async def is_learner(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether ``user_id`` is a student of the course."""
    found = await session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == course_id, Enrollment.user_id == user_id
        )
    )
    return found == "student"
