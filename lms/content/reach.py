"""What a person can reach in a course's content now: the content as their role sees it,
and whether an item, a page or a file is open to them (published, in an open module).
A learner in a paced cohort sees the cohort's opening dates (lms/cohorts/pacing.py).

Learners reach pages and files only through items of open modules; other domains (files,
video) ask here before they hand out a page or a download link.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.cohorts import pacing
from lms.content import progress, structure, view
from lms.content.schemas import CourseContentOut, ItemOut, ModuleOut
from lms.courses.roles import CourseAction, CourseRole, may
from lms.errors import Forbidden, NotFound
from persistence.models import Course, ModuleItem


def viewer_of(role: CourseRole | None) -> view.Viewer:
    """How a course role sees the course's content."""
    return view.Viewer(
        drafts=may(role, CourseAction.VIEW_DRAFTS),
        editor=may(role, CourseAction.EDIT),
        learner=role in (CourseRole.STUDENT, CourseRole.OBSERVER),
    )


async def content_for(
    session: AsyncSession, course: Course, role: CourseRole | None, user_id: uuid.UUID
) -> CourseContentOut:
    """The course's content as `user_id` with `role` sees it."""
    modules = await structure.modules_of(session, course.id)
    items = await structure.items_of(session, course.id)
    viewer = viewer_of(role)
    rows = await progress.of_learner(session, course.id, user_id) if viewer.learner else {}
    paced = await pacing.unlock_dates(session, course.id, user_id) if viewer.learner else {}
    return view.content(course.id, modules, items, rows, viewer, datetime.now(UTC), paced)


async def open_item(
    session: AsyncSession,
    course: Course,
    role: CourseRole | None,
    user_id: uuid.UUID,
    item_id: uuid.UUID,
) -> tuple[ModuleOut, ItemOut]:
    """The item with its module if the caller may open it now: 404 if hidden, 403 if locked."""
    shown = await content_for(session, course, role, user_id)
    found = view.open_item(shown, item_id)
    if found is None:
        raise NotFound("No such item.")
    if found[0].locked:
        raise Forbidden(found[0].lock_reason or "This module is locked.")
    return found


async def reaches_file(
    session: AsyncSession, course: Course, role: CourseRole | None, user_id: uuid.UUID, file_id: int
) -> bool:
    """Whether a published item of an open module shows file `file_id` to this person
    (staff, who see drafts, reach every file of the course)."""
    if may(role, CourseAction.VIEW_DRAFTS):
        return True
    shown = await content_for(session, course, role, user_id)
    return any(
        item.file_id == file_id
        for module in shown.modules
        if not module.locked
        for item in module.items
        if item.published
    )


def _modules_showing(shown: CourseContentOut, kind: str, target_id: uuid.UUID) -> list[ModuleOut]:
    """The modules in which a published item of ``kind`` shows ``target_id``."""
    return [
        module
        for module in shown.modules
        if any(
            item.published and item.kind == kind and item.target_id == target_id
            for item in module.items
        )
    ]


async def _shown_anywhere(
    session: AsyncSession, course_id: uuid.UUID, kind: str, target_id: uuid.UUID
) -> bool:
    """Whether any published item of the course shows ``target_id`` as ``kind`` (if none,
    no module can lock it: ``_modules_showing`` would find none)."""
    found = await session.scalar(
        select(ModuleItem.id)
        .where(
            ModuleItem.course_id == course_id,
            ModuleItem.kind == kind,
            ModuleItem.target_id == target_id,
            ModuleItem.published.is_(True),
        )
        .limit(1)
    )
    return found is not None


async def reaches_video(
    session: AsyncSession,
    course: Course,
    role: CourseRole | None,
    user_id: uuid.UUID,
    video_id: uuid.UUID,
) -> bool:
    """Whether a published item of an open module shows video `video_id` to this person
    (staff reach every video of the course)."""
    if may(role, CourseAction.VIEW_DRAFTS):
        return True
    shown = await content_for(session, course, role, user_id)
    return any(not module.locked for module in _modules_showing(shown, "video", video_id))


async def lock_of(
    session: AsyncSession,
    course: Course,
    role: CourseRole | None,
    user_id: uuid.UUID,
    kind: str,
    target_id: uuid.UUID,
) -> str | None:
    """Why this person may not open `target_id` now: the lock reason of its modules when
    every module showing it (as a published item of `kind`) is locked; None when one of
    them is open, when no module shows it (a quiz taken on its own), or for staff."""
    if may(role, CourseAction.VIEW_DRAFTS):
        return None
    if not await _shown_anywhere(session, course.id, kind, target_id):
        return None  # one indexed read instead of the whole course's content (a quiz start)
    shown = await content_for(session, course, role, user_id)
    modules = _modules_showing(shown, kind, target_id)
    if not modules or any(not module.locked for module in modules):
        return None
    return modules[0].lock_reason or "This module is locked."
