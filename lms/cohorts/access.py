"""Who may do what with a cohort: the one place that decides it.

- *manage* (create, change, membership, codes, transfers): the course's instructors and
  platform admins;
- *facilitate* (sessions, announcements, the dashboard, the member list): managers, the
  course's TAs and the cohort's named facilitators;
- *member*: a learner in the cohort reads it, its schedule, sessions and announcements.

Anyone else gets a 404 (they may not know the cohort exists); someone who sees it but may
not do the thing gets a 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.auth import Principal
from lms.courses.roles import CourseAction, CourseRole, may
from lms.courses.routes import course_role
from lms.errors import Forbidden, NotFound
from persistence.models import Cohort, CohortFacilitator, CohortMember, Course


@dataclass(frozen=True, slots=True)
class Standing:
    """The caller's standing in one cohort."""

    cohort: Cohort
    course: Course
    course_role: CourseRole | None
    manage: bool
    facilitate: bool
    member: bool

    def require_manage(self) -> None:
        """403 unless the caller manages the cohort."""
        if not self.manage:
            raise Forbidden("Only the course's instructors manage its cohorts.")

    def require_facilitate(self) -> None:
        """403 unless the caller facilitates the cohort."""
        if not self.facilitate:
            raise Forbidden("Only the cohort's facilitators may do this.")


async def is_facilitator(session: AsyncSession, cohort_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether ``user_id`` is a named facilitator of the cohort."""
    query = select(CohortFacilitator.user_id).where(
        CohortFacilitator.cohort_id == cohort_id, CohortFacilitator.user_id == user_id
    )
    return (await session.execute(query)).first() is not None


async def is_member(session: AsyncSession, cohort_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether ``user_id`` is a learner in the cohort."""
    query = select(CohortMember.id).where(
        CohortMember.cohort_id == cohort_id, CohortMember.user_id == user_id
    )
    return (await session.execute(query)).first() is not None


async def standing(session: AsyncSession, cohort_id: uuid.UUID, principal: Principal) -> Standing:
    """The caller's standing in the cohort; 404 if they may not see it."""
    cohort = await session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("No such cohort.")
    course = await session.get(Course, cohort.course_id)
    if course is None:
        raise NotFound("No such cohort.")
    role = await course_role(session, course, principal)
    manage = may(role, CourseAction.MANAGE_ENROLLMENTS)
    facilitate = (
        manage
        or may(role, CourseAction.VIEW_PROGRESS)
        or await is_facilitator(session, cohort.id, principal.user_id)
    )
    member = await is_member(session, cohort.id, principal.user_id)
    if not (facilitate or member):
        raise NotFound("No such cohort.")
    return Standing(cohort, course, role, manage, facilitate, member)


async def course_standing(
    session: AsyncSession, course_id: uuid.UUID, principal: Principal
) -> tuple[Course, CourseRole | None]:
    """The course and the caller's role in it; 404 unless they may see the course."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("No such course.")
    role = await course_role(session, course, principal)
    if role is None and course.status != "published":
        raise NotFound("No such course.")
    return course, role
