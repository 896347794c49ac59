"""Courses REST: the catalogue, course settings and the roster."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.accounts.service import find_active_user
from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import LTI_ROLES, CourseAction, CourseRole, may
from lms.courses.schemas import (
    CourseCreate,
    CourseOut,
    CoursePage,
    CourseUpdate,
    EnrollmentIn,
    EnrollmentOut,
)
from lms.deps import CourseEventsDep, SessionDep
from lms.errors import Conflict, Forbidden, NotFound
from lms.permissions import Permission, require
from persistence.models import Course, Enrollment, User

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])
Creator = Annotated[Principal, Depends(require(Permission.COURSES_CREATE))]
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


async def course_role(
    session: AsyncSession, course: Course, principal: Principal
) -> CourseRole | None:
    """The caller's role in the course; platform admins act as instructors."""
    if principal.role == "admin":
        return CourseRole.INSTRUCTOR
    query = select(Enrollment.role).where(
        Enrollment.course_id == course.id, Enrollment.user_id == principal.user_id
    )
    found = (await session.execute(query)).scalar_one_or_none()
    return CourseRole(found) if found else None


async def authorize(
    session: AsyncSession, course_id: uuid.UUID, principal: Principal, action: CourseAction
) -> tuple[Course, CourseRole | None]:
    """The one course-level check: 404 if the caller may not see it, 403 if not allowed."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("No such course.")
    role = await course_role(session, course, principal)
    visible = role is not None or course.status == "published"
    if not visible:
        raise NotFound("No such course.")
    if action != CourseAction.VIEW and not may(role, action):
        raise Forbidden("Your role in this course does not allow this.")
    return course, role


def _out(course: Course, role: CourseRole | None) -> CourseOut:
    return CourseOut.model_validate(course).model_copy(
        update={"my_role": role.value if role else None}
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a course")
async def create_course(
    body: CourseCreate, request: Request, session: SessionDep, principal: Creator
) -> CourseOut:
    """Instructors and admins create courses and teach them."""
    course = Course(**body.model_dump(), created_by=principal.user_id)
    session.add(course)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("A course with this code exists.") from exc
    session.add(Enrollment(course_id=course.id, user_id=principal.user_id, role="instructor"))
    audit(session, request, "course.create", target_type="course", target_id=course.id)
    await session.commit()
    return _out(course, CourseRole.INSTRUCTOR)


@router.get("", summary="My courses, or the published catalogue")
async def list_courses(
    session: SessionDep,
    principal: Reader,
    scope: Literal["mine", "catalog"] = "mine",
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CoursePage:
    """``mine``: where I am enrolled (admins: all); ``catalog``: every published course."""
    query = select(Course)
    if scope == "catalog":
        query = query.where(Course.status == "published")
    elif principal.role != "admin":
        mine = select(Enrollment.course_id).where(Enrollment.user_id == principal.user_id)
        query = query.where(Course.id.in_(mine))
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(Course.title).like(pattern), func.lower(Course.code).like(pattern))
        )
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(Course.created_at.desc()).limit(limit).offset(offset)
    )
    items = [_out(c, await course_role(session, c, principal)) for c in rows.scalars()]
    return CoursePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{course_id}", summary="One course")
async def get_course(course_id: uuid.UUID, session: SessionDep, principal: Reader) -> CourseOut:
    """Members see their courses; everyone signed in sees published ones."""
    course, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    return _out(course, role)


@router.patch("/{course_id}", summary="Change a course")
async def update_course(
    course_id: uuid.UUID,
    body: CourseUpdate,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> CourseOut:
    """Instructors edit title, description and status."""
    course, role = await authorize(session, course_id, principal, CourseAction.EDIT)
    changes = body.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(course, name, value)
    audit(
        session,
        request,
        "course.update",
        target_type="course",
        target_id=course.id,
        fields=sorted(changes),
    )
    await session.commit()
    return _out(course, role)


@router.get("/{course_id}/enrollments", summary="The roster")
async def roster(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> list[EnrollmentOut]:
    """Everyone enrolled, for instructors and TAs."""
    course, _ = await authorize(session, course_id, principal, CourseAction.VIEW_ROSTER)
    rows = await session.execute(
        select(Enrollment, User)
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.course_id == course.id)
        .order_by(Enrollment.created_at)
    )
    return [_enrollment(e, u) for e, u in rows.all()]


def _enrollment(enrollment: Enrollment, user: User) -> EnrollmentOut:
    role = CourseRole(enrollment.role)
    return EnrollmentOut(
        user_id=user.id,
        name=user.name,
        email=user.email,
        role=role.value,
        lti_role=LTI_ROLES[role],
        created_at=enrollment.created_at,
    )


@router.post(
    "/{course_id}/enrollments", status_code=status.HTTP_201_CREATED, summary="Enroll someone"
)
async def enroll(
    course_id: uuid.UUID,
    body: EnrollmentIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    course_events: CourseEventsDep,
) -> EnrollmentOut:
    """Enroll a user with a course role, or change the role of someone enrolled."""
    course, _ = await authorize(session, course_id, principal, CourseAction.MANAGE_ENROLLMENTS)
    user = await find_active_user(session, user_id=body.user_id, email=body.email)
    query = select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.user_id == user.id
    )
    enrollment = (await session.execute(query)).scalar_one_or_none()
    if enrollment is None:
        enrollment = Enrollment(course_id=course.id, user_id=user.id, role=body.role)
        session.add(enrollment)
    else:
        demoted = enrollment.role == "instructor" and body.role != "instructor"
        if demoted and await _instructors(session, course.id) <= 1:
            raise Conflict("A course needs an instructor: enroll another one first.")
        if enrollment.role != body.role:
            enrollment.role = body.role
            await course_events.role_changed(session, course.id, user.id)
    await session.flush()
    audit(
        session,
        request,
        "course.enroll",
        target_type="course",
        target_id=course.id,
        user_id=str(user.id),
        role=body.role,
    )
    await session.commit()
    return _enrollment(enrollment, user)


@router.delete(
    "/{course_id}/enrollments/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unenroll someone",
)
async def unenroll(
    course_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    course_events: CourseEventsDep,
) -> Response:
    """Remove a user from the course (not the last instructor); it also ends their standing
    in the course's rooms, and their live connections there close (4003)."""
    course, _ = await authorize(session, course_id, principal, CourseAction.MANAGE_ENROLLMENTS)
    query = select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.user_id == user_id
    )
    enrollment = (await session.execute(query)).scalar_one_or_none()
    if enrollment is not None:
        if enrollment.role == "instructor" and await _instructors(session, course.id) <= 1:
            raise Conflict("A course needs an instructor: enroll another one first.")
        await session.delete(enrollment)
        await course_events.unenrolled(session, course.id, user_id)
        audit(
            session,
            request,
            "course.unenroll",
            target_type="course",
            target_id=course.id,
            user_id=str(user_id),
        )
        await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _instructors(session: AsyncSession, course_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        Enrollment.course_id == course_id, Enrollment.role == "instructor"
    )
    return int((await session.execute(query)).scalar_one())
