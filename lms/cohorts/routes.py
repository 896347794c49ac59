"""Cohorts REST: a course's cohorts, one cohort, its pacing, facilitators and join code,
and joining with a code.

Course instructors (and admins) manage cohorts; TAs and named facilitators run them; the
learners in a cohort read it. The rules are in ``lms.cohorts.access``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.cohorts import access, codes, service
from lms.cohorts.deps import Managed, Manager, Reader, Visible
from lms.cohorts.schemas import (
    CohortCreate,
    CohortOut,
    CohortPage,
    CohortUpdate,
    JoinIn,
    MembershipOut,
)
from lms.courses.roles import CourseAction, may
from lms.deps import RoomsDep, SessionDep
from lms.errors import Forbidden, NotFound
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.rooms import service as rooms
from persistence.models import Cohort, CohortFacilitator, CohortMember, User
from persistence.models.base import utcnow

router = APIRouter(tags=["cohorts"])
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]


async def _out(session: SessionDep, found: access.Standing, principal: Principal) -> CohortOut:
    return await service.cohort_out(
        session,
        found.cohort,
        principal.user_id,
        manage=found.manage,
        facilitate=found.facilitate,
    )


@router.post(
    "/api/v1/courses/{course_id}/cohorts",
    status_code=status.HTTP_201_CREATED,
    summary="Create a cohort",
)
async def create_cohort(
    course_id: uuid.UUID,
    body: CohortCreate,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> CohortOut:
    """A cohort of the course with its dates, pacing and facilitators (instructors)."""
    course, role = await access.course_standing(session, course_id, principal)
    if not may(role, CourseAction.MANAGE_ENROLLMENTS):
        raise Forbidden("Only the course's instructors create cohorts.")
    cohort = await service.create(session, course, body, principal.user_id)
    audit(session, request, "cohort.create", target_type="cohort", target_id=cohort.id)
    out = await service.cohort_out(session, cohort, principal.user_id, manage=True, facilitate=True)
    await session.commit()
    return out


@router.get("/api/v1/courses/{course_id}/cohorts", summary="A course's cohorts")
async def list_cohorts(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CohortPage:
    """Staff see every cohort of the course; others the cohorts they are in or facilitate."""
    course, role = await access.course_standing(session, course_id, principal)
    manage = may(role, CourseAction.MANAGE_ENROLLMENTS)
    staff = manage or may(role, CourseAction.VIEW_PROGRESS)
    query = select(Cohort).where(Cohort.course_id == course.id)
    if not staff:
        mine = select(CohortMember.cohort_id).where(CohortMember.user_id == principal.user_id)
        led = select(CohortFacilitator.cohort_id).where(
            CohortFacilitator.user_id == principal.user_id
        )
        query = query.where(Cohort.id.in_(mine) | Cohort.id.in_(led))
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(Cohort.id > after)
    rows = list((await session.scalars(query.order_by(Cohort.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_key_cursor(rows[-1].id) if more else None
    link_next(request, response, following)
    items = []
    for cohort in rows:
        found = await access.standing(session, cohort.id, principal)
        items.append(await _out(session, found, principal))
    return CohortPage(items=items, next=following)


@router.get("/api/v1/cohorts/{cohort_id}", summary="One cohort")
async def get_cohort(
    cohort_id: uuid.UUID, session: SessionDep, principal: Reader, found: Visible
) -> CohortOut:
    """The cohort, its schedule and facilitators (and its join code for its managers)."""
    return await _out(session, found, principal)


@router.patch("/api/v1/cohorts/{cohort_id}", summary="Change a cohort")
async def update_cohort(
    cohort_id: uuid.UUID,
    body: CohortUpdate,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
) -> CohortOut:
    """Change name, zone, dates, capacity; ``pacing`` replaces the schedule."""
    changed = await service.update_cohort(session, found.cohort, body)
    audit(
        session,
        request,
        "cohort.update",
        target_type="cohort",
        target_id=cohort_id,
        fields=changed,
    )
    out = await _out(session, found, principal)
    await session.commit()
    return out


@router.post("/api/v1/cohorts/{cohort_id}/join-code", summary="Rotate the join code")
async def rotate_code(
    cohort_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, found: Managed
) -> CohortOut:
    """A new join code; the old one stops working at once."""
    found.cohort.join_code = codes.new_code()
    audit(session, request, "cohort.rotate_code", target_type="cohort", target_id=cohort_id)
    out = await _out(session, found, principal)
    await session.commit()
    return out


@router.delete(
    "/api/v1/cohorts/{cohort_id}/join-code",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn self-enrolment off",
)
async def drop_code(
    cohort_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, found: Managed
) -> Response:
    """No code joins the cohort any more (rotate to issue a new one)."""
    found.cohort.join_code = None
    audit(session, request, "cohort.drop_code", target_type="cohort", target_id=cohort_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/cohorts/join", status_code=status.HTTP_201_CREATED, summary="Join with a code"
)
async def join_with_code(
    body: JoinIn, request: Request, session: SessionDep, principal: Manager
) -> MembershipOut:
    """Join the cohort whose code this is (and enrol in its course). Wrong codes are
    counted: after 10 in 15 minutes, 429 until the oldest ages out."""
    now = utcnow()
    cohort = await codes.find(session, principal.user_id, body.code, now)
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    member = await service.join(session, cohort.id, user, "code", now)
    audit(session, request, "cohort.join", target_type="cohort", target_id=cohort.id, via="code")
    out = service.membership_out(member, user)
    await session.commit()
    return out


@router.put(
    "/api/v1/cohorts/{cohort_id}/facilitators/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Name a facilitator",
)
async def add_facilitator(
    cohort_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
) -> Response:
    """Someone who runs the cohort: its sessions (co-host), announcements, dashboard."""
    await service.add_facilitator(session, found.cohort, user_id)
    audit(
        session,
        request,
        "cohort.add_facilitator",
        target_type="cohort",
        target_id=cohort_id,
        user_id=str(user_id),
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/api/v1/cohorts/{cohort_id}/facilitators/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw a facilitator",
)
async def remove_facilitator(
    cohort_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
    manager: RoomsDep,
) -> Response:
    """They no longer run the cohort (nor stay in its live rooms)."""
    lost = await service.remove_facilitator(session, found.cohort, user_id)
    audit(
        session,
        request,
        "cohort.remove_facilitator",
        target_type="cohort",
        target_id=cohort_id,
        user_id=str(user_id),
    )
    await session.commit()
    await rooms.remove_live(manager, lost, user_id, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
