"""Content REST: a course's modules and items (structure, order, drag and drop), what is
next for me, learner progress and the instructors' progress table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.content import copy, progress, structure, view
from lms.content.reach import content_for, open_item
from lms.content.schemas import (
    CopyIn,
    CopyOut,
    CourseContentOut,
    CourseHomeOut,
    ItemIn,
    ItemOut,
    LearnerProgress,
    ModuleIn,
    ModuleOut,
    Order,
    Placement,
    ProgressIn,
    ProgressOut,
    ProgressTable,
)
from lms.courses.roles import CourseAction, CourseRole
from lms.courses.routes import authorize
from lms.deps import DocumentsDep, SessionDep, WriterSessionsDep
from lms.errors import Conflict, Forbidden
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Course, Enrollment, ModuleItem, User, Video

router = APIRouter(prefix="/api/v1", tags=["content"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Creator = Annotated[Principal, Depends(require(Permission.COURSES_CREATE))]
TABLE_PAGE = 100


def _now() -> datetime:
    return datetime.now(UTC)


async def _edit(session: AsyncSession, course_id: uuid.UUID, principal: Principal) -> Course:
    course, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    return course


async def _module_out(session: AsyncSession, course: Course, module_id: uuid.UUID) -> ModuleOut:
    shown = await content_for(session, course, CourseRole.INSTRUCTOR, course.created_by)
    return next(m for m in shown.modules if m.id == module_id)


@router.get("/courses/{course_id}/content", summary="A course's modules and items")
async def course_content(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> CourseContentOut:
    """Modules in order with their items; learners see their progress and what is locked."""
    course, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    return await content_for(session, course, role, principal.user_id)


@router.get("/courses/{course_id}/home", summary="What is next for me in a course")
async def course_home(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> CourseHomeOut:
    """The first open item I have not completed, live sessions to come, my progress."""
    course, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    shown = await content_for(session, course, role, principal.user_id)
    return view.home(shown, course.title, _now())


@router.post(
    "/courses/{course_id}/modules", status_code=status.HTTP_201_CREATED, summary="Add a module"
)
async def create_module(
    course_id: uuid.UUID, body: ModuleIn, request: Request, session: SessionDep, principal: Manager
) -> ModuleOut:
    """A new module at the end of the course (a draft unless published)."""
    course = await _edit(session, course_id, principal)
    created = await structure.create_module(session, course.id, body)
    audit(session, request, "content.module.create", target_type="module", target_id=created.id)
    await session.commit()
    return await _module_out(session, course, created.id)


@router.patch("/modules/{module_id}", summary="Change a module")
async def update_module(
    module_id: uuid.UUID, body: ModuleIn, request: Request, session: SessionDep, principal: Manager
) -> ModuleOut:
    """Title, publishing, unlock date, prerequisites."""
    target = await structure.module(session, module_id)
    course = await _edit(session, target.course_id, principal)
    await structure.update_module(session, target, body)
    fields = sorted(body.model_dump(exclude_unset=True))
    audit(
        session,
        request,
        "content.module.update",
        target_type="module",
        target_id=target.id,
        fields=fields,
    )
    await session.commit()
    return await _module_out(session, course, target.id)


@router.delete(
    "/modules/{module_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a module"
)
async def delete_module(
    module_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> Response:
    """The module and its items (learners' progress on them goes too)."""
    target = await structure.module(session, module_id)
    await _edit(session, target.course_id, principal)
    await structure.delete_module(session, target)
    audit(session, request, "content.module.delete", target_type="module", target_id=module_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/courses/{course_id}/modules/order", summary="Reorder the modules")
async def reorder_modules(
    course_id: uuid.UUID, body: Order, request: Request, session: SessionDep, principal: Manager
) -> CourseContentOut:
    """Every module of the course once, in the new order."""
    course = await _edit(session, course_id, principal)
    await structure.reorder_modules(session, course.id, body)
    audit(session, request, "content.module.reorder", target_type="course", target_id=course.id)
    await session.commit()
    return await content_for(session, course, CourseRole.INSTRUCTOR, principal.user_id)


@router.post(
    "/modules/{module_id}/items", status_code=status.HTTP_201_CREATED, summary="Add an item"
)
async def create_item(
    module_id: uuid.UUID, body: ItemIn, request: Request, session: SessionDep, principal: Manager
) -> ItemOut:
    """A page, file, video, link or live session at the end of the module."""
    parent = await structure.module(session, module_id)
    await _edit(session, parent.course_id, principal)
    created = await structure.create_item(session, parent, body, by=principal.user_id)
    audit(session, request, "content.item.create", target_type="item", target_id=created.id)
    if created.kind == "live_session" and body.target_id is None:
        room_id = created.target_id
        audit(session, request, "room.create", target_type="room", target_id=room_id)
    await session.commit()
    return view.item_out(created, None)


@router.patch("/items/{item_id}", summary="Change an item")
async def update_item(
    item_id: uuid.UUID, body: ItemIn, request: Request, session: SessionDep, principal: Manager
) -> ItemOut:
    """Title, publishing, target, requirement (the kind stays)."""
    target = await structure.item(session, item_id)
    await _edit(session, target.course_id, principal)
    await structure.update_item(session, target, body)
    fields = sorted(body.model_dump(exclude_unset=True))
    audit(
        session,
        request,
        "content.item.update",
        target_type="item",
        target_id=item_id,
        fields=fields,
    )
    await session.commit()
    return view.item_out(target, None)


@router.post("/items/{item_id}/move", summary="Move an item (drag and drop)")
async def move_item(
    item_id: uuid.UUID, body: Placement, request: Request, session: SessionDep, principal: Manager
) -> CourseContentOut:
    """To a position in the same or another module of the course."""
    target = await structure.item(session, item_id)
    course = await _edit(session, target.course_id, principal)
    await structure.move_item(session, target, body)
    audit(session, request, "content.item.move", target_type="item", target_id=item_id)
    await session.commit()
    return await content_for(session, course, CourseRole.INSTRUCTOR, principal.user_id)


@router.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an item")
async def delete_item(
    item_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> Response:
    """The item (not the page, file or video it shows)."""
    target = await structure.item(session, item_id)
    await _edit(session, target.course_id, principal)
    await structure.delete_item(session, target)
    audit(session, request, "content.item.delete", target_type="item", target_id=item_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/items/{item_id}/progress", summary="Record my progress on an item")
async def record_progress(
    item_id: uuid.UUID, body: ProgressIn, session: SessionDep, principal: Reader
) -> ProgressOut:
    """Opened, a video heartbeat (ranges played), or marked done; learners only."""
    target = await structure.item(session, item_id)
    course, role = await authorize(session, target.course_id, principal, CourseAction.VIEW)
    if role != CourseRole.STUDENT:
        raise Forbidden("Progress is recorded for the course's students.")
    await open_item(session, course, role, principal.user_id, item_id)
    duration = await _video_duration(session, target) if body.event == "heartbeat" else None
    row = await progress.record(session, target, principal.user_id, body, _now(), duration=duration)
    await session.commit()
    return view.progress_out(row)


async def _video_duration(session: AsyncSession, item: ModuleItem) -> float | None:
    """The length a video item's heartbeats are measured against: the server's own."""
    if item.kind != "video" or item.target_id is None:
        return None
    video = await session.get(Video, item.target_id)
    if video is None or video.duration is None:
        raise Conflict("This video is not ready to be watched yet.")
    return video.duration


@router.get("/courses/{course_id}/progress", summary="Every learner's progress")
async def progress_table(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=TABLE_PAGE)] = TABLE_PAGE,
) -> ProgressTable:
    """Per learner and item, for instructors and TAs; learners by name, `limit` a page."""
    course, _ = await authorize(session, course_id, principal, CourseAction.VIEW_PROGRESS)
    after = decode_key_cursor(cursor)
    query = (
        select(User.id, User.name)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course.id, Enrollment.role == CourseRole.STUDENT.value)
        .order_by(User.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(User.id > after)
    learners = list((await session.execute(query)).all())
    more = len(learners) > limit
    learners = learners[:limit]
    modules = await structure.modules_of(session, course.id)
    items = await structure.items_of(session, course.id)
    rows = await progress.of_learners(session, course.id, [u for u, _ in learners])
    table: list[LearnerProgress] = []
    for user_id, name in learners:
        seen = view.content(
            course.id, modules, items, rows[user_id], view.Viewer(False, False, True), _now()
        )
        outs = {
            str(i.id): i.progress for m in seen.modules for i in m.items if i.progress is not None
        }
        completed = sum(1 for p in outs.values() if p.completed)
        table.append(
            LearnerProgress(
                user_id=user_id, name=name, percent=seen.percent, completed=completed, items=outs
            )
        )
    shown_items = [view.item_out(i, None) for i in items if i.published]
    next_cursor = encode_key_cursor(learners[-1][0]) if more else None
    link_next(request, response, next_cursor)
    return ProgressTable(items=shown_items, learners=table, next=next_cursor)


@router.post(
    "/courses/{course_id}/copy", status_code=status.HTTP_201_CREATED, summary="Copy a course"
)
async def copy_course(
    course_id: uuid.UUID,
    body: CopyIn,
    request: Request,
    session: SessionDep,
    principal: Creator,
    service: DocumentsDep,
    sessions: WriterSessionsDep,
) -> CopyOut:
    """A new draft course with this one's modules, pages and items, question banks,
    quizzes, rubrics, assignments and gradebook structure (no one's work or grades); I
    teach it."""
    source, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    try:
        copied = await copy.copy_course(
            session, source, code=body.code, title=body.title, by=principal.user_id
        )
    except IntegrityError:
        raise Conflict("A course with this code exists.") from None
    audit(
        session,
        request,
        "course.copy",
        target_type="course",
        target_id=copied.course.id,
        source=str(source.id),
    )
    await session.commit()
    await copy.copy_documents(sessions, service.store, copied)
    return CopyOut(course_id=copied.course.id, skipped=copied.skipped)
