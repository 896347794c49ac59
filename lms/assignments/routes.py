"""Assignments REST: a course's assignments (settings; instructions are a course page),
extensions and group sets (rubrics are in ``rubric_routes``). Editors (instructors) change
them; graders (TAs) read drafts; learners see published assignments with their own dates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.assignments import service
from lms.assignments.schemas import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPage,
    ExtensionIn,
    ExtensionOut,
    GroupOut,
    GroupSetIn,
    GroupSetOut,
)
from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction, CourseRole, may
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import NotFound
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Assignment, GroupSet, Page

router = APIRouter(prefix="/api/v1", tags=["assignments"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=200)]


async def assignment_out(
    session: AsyncSession, row: Assignment, user_id: uuid.UUID | None
) -> AssignmentOut:
    """An assignment as a body; ``user_id``: a learner whose extension applies."""
    page = await session.get(Page, row.page_id) if row.page_id else None
    due, lock = row.due_at, row.lock_at
    if user_id is not None:
        due, lock = await service.dates_for(session, row, user_id)
    return AssignmentOut(
        id=row.id,
        course_id=row.course_id,
        title=row.title,
        points=row.points,
        published=row.published,
        page_id=row.page_id,
        instructions_html=page.published_html if page else None,
        available_from=row.available_from,
        due_at=row.due_at,
        lock_at=row.lock_at,
        my_due_at=due,
        my_lock_at=lock,
        submission_types=[t for t in row.submission_types if t in ("text", "file")],
        allowed_extensions=row.allowed_extensions,
        max_file_bytes=row.max_file_bytes,
        max_text_chars=row.max_text_chars,
        late_policy=service.late_policy(row),
        group_set_id=row.group_set_id,
        rubric_id=row.rubric_id,
        anonymous=row.anonymous,
        names_revealed=row.names_revealed_at is not None,
    )


async def visible(
    session: AsyncSession, assignment_id: uuid.UUID, principal: Principal
) -> tuple[Assignment, CourseRole | None]:
    """An assignment the caller may see: staff any, others a published one (else 404)."""
    row = await service.assignment(session, assignment_id)
    _, role = await authorize(session, row.course_id, principal, CourseAction.VIEW)
    if not may(role, CourseAction.VIEW_DRAFTS) and (not row.published or role is None):
        raise NotFound("No such assignment.")
    return row, role


async def editable(
    session: AsyncSession, assignment_id: uuid.UUID, principal: Principal
) -> Assignment:
    """An assignment the caller may change (the course's EDIT role)."""
    row = await service.assignment(session, assignment_id)
    await authorize(session, row.course_id, principal, CourseAction.EDIT)
    return row


@router.get("/courses/{course_id}/assignments", summary="A course's assignments")
async def list_assignments(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AssignmentPage:
    """Staff see drafts too; members see published ones with their own dates."""
    _, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    if role is None:
        raise NotFound("No such course.")
    drafts = may(role, CourseAction.VIEW_DRAFTS)
    rows, after = await service.list_assignments(
        session, course_id, drafts=drafts, after=decode_key_cursor(cursor), limit=limit
    )
    learner = None if drafts else principal.user_id
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    items = [await assignment_out(session, r, learner) for r in rows]
    return AssignmentPage(items=items, next=following)


@router.post(
    "/courses/{course_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    summary="Add an assignment",
)
async def create_assignment(
    course_id: uuid.UUID,
    body: AssignmentIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> AssignmentOut:
    """A draft assignment with an empty instructions page (open it in the page editor)."""
    course, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    row = await service.create(session, course.id, body, by=principal.user_id)
    audit(session, request, "assignment.create", target_type="assignment", target_id=row.id)
    await session.commit()
    return await assignment_out(session, row, None)


@router.get("/assignments/{assignment_id}", summary="An assignment")
async def read_assignment(
    assignment_id: uuid.UUID, session: SessionDep, principal: Reader
) -> AssignmentOut:
    """Settings and the published instructions; a learner's own due and lock dates."""
    row, role = await visible(session, assignment_id, principal)
    learner = None if may(role, CourseAction.VIEW_DRAFTS) else principal.user_id
    return await assignment_out(session, row, learner)


@router.patch("/assignments/{assignment_id}", summary="Change an assignment")
async def update_assignment(
    assignment_id: uuid.UUID,
    body: AssignmentIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> AssignmentOut:
    """The fields given change; dates stay in order (available, due, lock)."""
    row = await editable(session, assignment_id, principal)
    await service.update(session, row, body)
    fields = sorted(body.model_dump(exclude_unset=True))
    audit(
        session,
        request,
        "assignment.update",
        target_type="assignment",
        target_id=row.id,
        fields=fields,
    )
    await session.commit()
    return await assignment_out(session, row, None)


@router.delete(
    "/assignments/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an assignment",
)
async def delete_assignment(
    assignment_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> Response:
    """With its submissions, grades and the module items showing it."""
    row = await editable(session, assignment_id, principal)
    await service.delete(session, row)
    audit(session, request, "assignment.delete", target_type="assignment", target_id=row.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/assignments/{assignment_id}/extensions", summary="An assignment's extensions")
async def list_extensions(
    assignment_id: uuid.UUID, session: SessionDep, principal: Manager
) -> list[ExtensionOut]:
    """Every student's extension (at most one per student, so bounded by the roster)."""
    row = await editable(session, assignment_id, principal)
    return [
        ExtensionOut(user_id=e.user_id, due_at=e.due_at, lock_at=e.lock_at)
        for e in await service.extensions_of(session, row.id)
    ]


@router.put("/assignments/{assignment_id}/extensions", summary="Give a student an extension")
async def set_extension(
    assignment_id: uuid.UUID,
    body: ExtensionIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> ExtensionOut:
    """A new due and/or lock date for exactly this student."""
    row = await editable(session, assignment_id, principal)
    made = await service.set_extension(session, row, body)
    audit(
        session,
        request,
        "assignment.extension",
        target_type="assignment",
        target_id=row.id,
        user_id=str(body.user_id),
    )
    await session.commit()
    return ExtensionOut(user_id=made.user_id, due_at=made.due_at, lock_at=made.lock_at)


async def _group_set_out(session: AsyncSession, made: GroupSet) -> GroupSetOut:
    groups = await service.groups_of(session, made.id)
    return GroupSetOut(
        id=made.id,
        course_id=made.course_id,
        name=made.name,
        groups=[GroupOut(id=g.id, name=g.name, members=m) for g, m in groups],
    )


@router.get("/courses/{course_id}/group-sets", summary="A course's group sets")
async def list_group_sets(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> list[GroupSetOut]:
    """The course's group sets with their groups (staff)."""
    await authorize(session, course_id, principal, CourseAction.VIEW_ROSTER)
    return [
        await _group_set_out(session, g) for g in await service.group_sets_of(session, course_id)
    ]


@router.post(
    "/courses/{course_id}/group-sets",
    status_code=status.HTTP_201_CREATED,
    summary="Add a group set",
)
async def create_group_set(
    course_id: uuid.UUID,
    body: GroupSetIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> GroupSetOut:
    """Groups of the course's students, each student in at most one."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    made = await service.create_group_set(session, course_id, body)
    audit(session, request, "group_set.create", target_type="group_set", target_id=made.id)
    await session.commit()
    return await _group_set_out(session, made)
