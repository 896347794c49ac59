"""Gradebook REST: its structure (settings, groups, columns), the grid, a cell's grade,
posting, final-grade overrides, the grade-change history and a learner's own grades.

Course roles: the grid, cells, posting and the history need GRADE (instructors and TAs);
the structure, overrides and CSV imports need EDIT (instructors); a student reads only
their own posted grades (``/mine``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction, CourseRole
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import Forbidden, InvalidInput, NotFound
from lms.gradebook import book, history, release, service, structure, views
from lms.gradebook.schemas import (
    CellOut,
    ChangeOut,
    ChangePage,
    ColumnIn,
    ColumnOut,
    GradeIn,
    GridOut,
    GroupIn,
    GroupOut,
    MyGradesOut,
    OverrideIn,
    PostIn,
    SettingsIn,
    StructureOut,
)
from lms.gradebook.service import UNCHANGED, GradeEdit
from lms.pagination import (
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    encode_key_cursor,
    link_next,
)
from lms.permissions import Permission, require

router = APIRouter(prefix="/api/v1/courses/{course_id}/gradebook", tags=["gradebook"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Limit = Annotated[int, Query(ge=1, le=500)]


async def _structure(session: AsyncSession, course_id: uuid.UUID) -> StructureOut:
    return views.structure(await book.load(session, course_id, people=[]))


@router.get("", summary="The gradebook's settings, groups and columns")
async def get_structure(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> StructureOut:
    """Instructors and TAs."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    return await _structure(session, course_id)


@router.patch("/settings", summary="Change the grading settings")
async def update_settings(
    course_id: uuid.UUID,
    body: SettingsIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> StructureOut:
    """Weighted groups or points, the missing policy, the letter scheme."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    changes = body.model_dump(exclude_none=True, exclude={"scheme", "default_scheme"})
    if body.scheme is not None:
        changes["scheme"] = [[e.name, str(e.min)] for e in body.scheme]
    if body.default_scheme:
        changes["scheme"] = None
    await structure.update_settings(session, course_id, changes)
    audit(
        session,
        request,
        "gradebook.settings",
        target_type="course",
        target_id=course_id,
        fields=sorted(changes),
    )
    await session.commit()
    return await _structure(session, course_id)


@router.post("/groups", status_code=status.HTTP_201_CREATED, summary="Add an assignment group")
async def create_group(
    course_id: uuid.UUID, body: GroupIn, request: Request, session: SessionDep, principal: Manager
) -> GroupOut:
    """A group with a name, a weight, drop rules and whether it is extra credit."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    fields = body.model_dump(exclude_none=True, exclude={"position"})
    fields.setdefault("name", "Group")
    group = await structure.add_group(session, course_id, fields)
    audit(session, request, "gradebook.group.create", target_type="grade_group", target_id=group.id)
    await session.commit()
    return GroupOut.model_validate(group)


@router.patch("/groups/{group_id}", summary="Change an assignment group")
async def update_group(
    course_id: uuid.UUID,
    group_id: uuid.UUID,
    body: GroupIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> GroupOut:
    """Name, weight, drops, extra credit, position (omitted fields stay)."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    group = await structure.find_group(session, course_id, group_id)
    changes = body.model_dump(exclude_none=True)
    structure.update_group(group, changes)
    audit(
        session,
        request,
        "gradebook.group.update",
        target_type="grade_group",
        target_id=group_id,
        fields=sorted(changes),
    )
    await session.commit()
    return GroupOut.model_validate(group)


@router.delete(
    "/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an assignment group",
)
async def delete_group(
    course_id: uuid.UUID,
    group_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> Response:
    """Its columns join the first other group."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    group = await structure.find_group(session, course_id, group_id)
    await structure.delete_group(session, group)
    audit(session, request, "gradebook.group.delete", target_type="grade_group", target_id=group_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/columns", status_code=status.HTTP_201_CREATED, summary="Add a manual column")
async def create_column(
    course_id: uuid.UUID, body: ColumnIn, request: Request, session: SessionDep, principal: Manager
) -> ColumnOut:
    """A column graded by hand (attendance, participation...): title and points required."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    if body.title is None or body.points_possible is None:
        raise InvalidInput("A manual column needs a title and its points possible.")
    column = await structure.add_manual_column(
        session,
        course_id,
        title=body.title,
        points_possible=body.points_possible,
        group_id=body.group_id,
        due_at=body.due_at,
    )
    rest = body.model_dump(
        exclude_none=True, exclude={"title", "points_possible", "group_id", "due_at", "post_policy"}
    )
    await structure.update_column(session, column, rest)
    if body.post_policy is not None:
        await release.set_policy(session, column, body.post_policy, actor_id=principal.user_id)
    audit(
        session, request, "gradebook.column.create", target_type="grade_column", target_id=column.id
    )
    await session.commit()
    return ColumnOut.model_validate(column)


@router.patch("/columns/{column_id}", summary="Change a column")
async def update_column(
    course_id: uuid.UUID,
    column_id: uuid.UUID,
    body: ColumnIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> ColumnOut:
    """Group, drop and extra-credit options, post policy; title and points of a manual one."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    column = await structure.find_column(session, course_id, column_id)
    changes = body.model_dump(exclude_none=True, exclude={"post_policy"})
    await structure.update_column(session, column, changes)
    if body.post_policy is not None and body.post_policy != column.post_policy:
        await release.set_policy(session, column, body.post_policy, actor_id=principal.user_id)
    audit(
        session,
        request,
        "gradebook.column.update",
        target_type="grade_column",
        target_id=column_id,
        fields=sorted(body.model_dump(exclude_unset=True)),
    )
    await session.commit()
    return ColumnOut.model_validate(column)


@router.delete(
    "/columns/{column_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a manual column"
)
async def delete_column(
    course_id: uuid.UUID,
    column_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> Response:
    """Its scores go; the grade history keeps their changes."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    column = await structure.find_column(session, course_id, column_id)
    await structure.delete_column(session, column)
    audit(
        session, request, "gradebook.column.delete", target_type="grade_column", target_id=column_id
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/grid", summary="The grid: learners x columns and their grades")
async def grid(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
) -> GridOut:
    """A page of learners (by id across pages, by name within one) with every cell and
    the computed current and final grade."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    after = decode_key_cursor(cursor)
    people = await book.learners(session, course_id, after=after, limit=limit + 1)
    by_id = sorted(people, key=lambda p: p.id)
    more = len(by_id) > limit
    page = by_id[:limit]
    chosen = {p.id for p in page}
    loaded = await book.load(session, course_id, people=[p for p in people if p.id in chosen])
    next_cursor = encode_key_cursor(page[-1].id) if more and page else None
    link_next(request, response, next_cursor)
    return GridOut(
        structure=views.structure(loaded),
        rows=[views.row(loaded, p) for p in loaded.learners],
        next=next_cursor,
    )


async def _learner(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
    if not await book.learners(session, course_id, only=[user_id]):
        raise NotFound("No such student in this course.")


@router.put("/columns/{column_id}/grades/{user_id}", summary="Grade a cell")
async def grade_cell(
    course_id: uuid.UUID,
    column_id: uuid.UUID,
    user_id: uuid.UUID,
    body: GradeIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> CellOut:
    """A learner's score and flags in a column (omitted fields stay); with ``expect``, a
    cell changed by someone else since is a 409. Written to the grade history."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    column = await structure.find_column(session, course_id, column_id)
    await _learner(session, course_id, user_id)
    sent = body.model_dump(exclude_unset=True, exclude={"reason", "expect"})
    edit = GradeEdit(**{k: sent.get(k, UNCHANGED) for k in ("score", "excused", "missing", "late")})
    reason = body.reason.strip() or "edited in the gradebook"
    changed = await service.set_grade(
        session,
        column,
        user_id,
        edit,
        actor_id=principal.user_id,
        reason=reason,
        expect=body.expect,
    )
    if changed:
        audit(
            session,
            request,
            "gradebook.grade",
            target_type="grade_column",
            target_id=column_id,
            student_id=str(user_id),
        )
    await session.commit()
    row = await service.score_row(session, column_id, user_id, create=False)
    shown = views.cell(row)
    assert shown is not None
    return shown


@router.post("/columns/{column_id}/post", summary="Post a column's grades")
async def post_grades(
    course_id: uuid.UUID,
    column_id: uuid.UUID,
    body: PostIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> list[uuid.UUID]:
    """Show the graded cells to their learners (all or ``user_ids``), who are notified;
    returns the learners whose grades were released."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    column = await structure.find_column(session, course_id, column_id)
    released = await release.post(
        session, column, user_ids=body.user_ids, actor_id=principal.user_id
    )
    audit(
        session,
        request,
        "gradebook.post",
        target_type="grade_column",
        target_id=column_id,
        learners=len(released),
    )
    await session.commit()
    return released


@router.post("/columns/{column_id}/hide", summary="Hide a column's grades again")
async def hide_grades(
    course_id: uuid.UUID,
    column_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> list[uuid.UUID]:
    """A manual-policy column's posted cells are hidden from their learners again."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    column = await structure.find_column(session, course_id, column_id)
    hidden = await release.hide(session, column, actor_id=principal.user_id)
    audit(
        session,
        request,
        "gradebook.hide",
        target_type="grade_column",
        target_id=column_id,
        learners=len(hidden),
    )
    await session.commit()
    return hidden


@router.put("/overrides/{user_id}", summary="Override a learner's final grade")
async def override(
    course_id: uuid.UUID,
    user_id: uuid.UUID,
    body: OverrideIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> Response:
    """A percentage (null removes the override) and the required reason."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    await _learner(session, course_id, user_id)
    changed = await release.set_override(
        session,
        course_id=course_id,
        user_id=user_id,
        percent=body.percent,
        reason=body.reason,
        actor_id=principal.user_id,
    )
    if changed:
        audit(
            session,
            request,
            "gradebook.override",
            target_type="course",
            target_id=course_id,
            student_id=str(user_id),
        )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/history", summary="The grade-change history")
async def grade_history(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    student_id: uuid.UUID | None = None,
    column_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> ChangePage:
    """Every change to a grade in the course, newest first (by student, by column)."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    found = await history.changes(
        session,
        course_id,
        student_id=student_id,
        column_id=column_id,
        before=decode_cursor(cursor),
        limit=limit,
    )
    next_cursor = None if found.next_before is None else encode_cursor(found.next_before)
    link_next(request, response, next_cursor)
    return ChangePage(items=[ChangeOut.model_validate(c) for c in found.items], next=next_cursor)


@router.get("/mine", summary="My grades in this course")
async def my_grades(course_id: uuid.UUID, session: SessionDep, principal: Reader) -> MyGradesOut:
    """A student's own posted grades, per group, and the grade computed from them."""
    _, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    if role != CourseRole.STUDENT or principal.role == "admin":
        raise Forbidden("Only the course's students have grades here.")
    loaded = await book.load(session, course_id, only=[principal.user_id])
    return views.mine(loaded, principal.user_id)
