"""Rubrics REST: a course's rubrics, read by its graders and written by its instructors.

Editing a rubric that grades were already given with is allowed (as in Canvas) and the
answer says how many there are (``graded``) so the editor can warn. Those grades keep the
points they were given: the levels chosen stay on them, and the score changes only when a
grader grades that student again with the edited rubric (a level or criterion that no
longer exists is then simply not chosen). Every change is audited with the points before
and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.assignments import rubrics
from lms.assignments.schemas import RubricIn, RubricOut, RubricPage
from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import NotFound
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Assignment, Grade, Rubric

router = APIRouter(prefix="/api/v1", tags=["assignments"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=200)]


def rubric_out(row: Rubric, graded: int | None = None) -> RubricOut:
    """A rubric as a body; ``graded`` only for its graders."""
    return RubricOut(
        id=row.id,
        course_id=row.course_id,
        title=row.title,
        points=row.points,
        criteria=rubrics.criteria_of(row.criteria),
        graded=graded,
    )


async def graded_counts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For each rubric of ``ids``: the grades given on the assignments that use it."""
    if not ids:
        return {}
    query = (
        select(Assignment.rubric_id, func.count(Grade.id))
        .join(Grade, Grade.assignment_id == Assignment.id)
        .where(Assignment.rubric_id.in_(ids))
        .group_by(Assignment.rubric_id)
    )
    return {rid: int(n) for rid, n in (await session.execute(query)).all() if rid is not None}


@router.get("/courses/{course_id}/rubrics", summary="A course's rubrics")
async def list_rubrics(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RubricPage:
    """Every rubric of the course, for its graders, with how many grades each was used for."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    after = decode_key_cursor(cursor)
    query = select(Rubric).where(Rubric.course_id == course_id)
    if after is not None:
        query = query.where(Rubric.id > after)
    rows = list((await session.scalars(query.order_by(Rubric.id).limit(limit + 1))).all())
    following = encode_key_cursor(rows[limit - 1].id) if len(rows) > limit else None
    link_next(request, response, following)
    counts = await graded_counts(session, [r.id for r in rows[:limit]])
    return RubricPage(
        items=[rubric_out(r, counts.get(r.id, 0)) for r in rows[:limit]], next=following
    )


@router.post(
    "/courses/{course_id}/rubrics", status_code=status.HTTP_201_CREATED, summary="Add a rubric"
)
async def create_rubric(
    course_id: uuid.UUID, body: RubricIn, request: Request, session: SessionDep, principal: Manager
) -> RubricOut:
    """Criteria with levels and points, reusable by the course's assignments."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    criteria = rubrics.check(body)
    row = Rubric(
        course_id=course_id,
        title=body.title,
        criteria=criteria,
        points=rubrics.points_of(body.criteria),
        created_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    audit(session, request, "rubric.create", target_type="rubric", target_id=row.id)
    await session.commit()
    return rubric_out(row, 0)


@router.put("/rubrics/{rubric_id}", summary="Change a rubric")
async def update_rubric(
    rubric_id: uuid.UUID, body: RubricIn, request: Request, session: SessionDep, principal: Manager
) -> RubricOut:
    """The whole rubric anew: title, criteria and levels in their order (ids kept for what
    stays, so grades already given still name their levels). Grades already given keep
    their points; ``graded`` says how many there are."""
    row = await session.get(Rubric, rubric_id)
    if row is None:
        raise NotFound("No such rubric.")
    await authorize(session, row.course_id, principal, CourseAction.EDIT)
    criteria = rubrics.check(body)
    before = row.points
    row.criteria = criteria
    row.title = body.title
    row.points = rubrics.points_of(body.criteria)
    graded = (await graded_counts(session, [row.id])).get(row.id, 0)
    audit(
        session,
        request,
        "rubric.update",
        target_type="rubric",
        target_id=row.id,
        points_before=f"{before:.2f}",
        points_after=f"{row.points:.2f}",
        criteria=len(criteria),
        graded=graded,
    )
    await session.commit()
    return rubric_out(row, graded)
