"""A course's content as one person sees it: which modules and items show, which are
locked and why, what they completed, and what comes next. Pure: rows in, schemas out.

Learners see published modules and items only; a module is locked until its unlock date
and until each prerequisite module is complete (every published item in it completed).
Editors and TAs see drafts and are never locked out. Anyone else who may see the course
(a published course's visitors) sees the structure, locked until they enrol.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lms.content.schemas import (
    CourseContentOut,
    CourseHomeOut,
    ItemOut,
    ModuleOut,
    NextItem,
    ProgressOut,
)
from persistence.models import CourseModule, ItemProgress, ModuleItem


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: may they see drafts, edit, and do they learn in this course."""

    drafts: bool
    editor: bool
    learner: bool


def progress_out(row: ItemProgress | None) -> ProgressOut:
    """The schema of one progress row (none yet: all false)."""
    if row is None:
        return ProgressOut()
    return ProgressOut(
        viewed=row.viewed_at is not None,
        watched_share=round(row.watched_share, 4),
        position=row.position,
        submitted=row.submitted_at is not None,
        completed=row.completed_at is not None,
    )


def item_out(item: ModuleItem, progress: ProgressOut | None) -> ItemOut:
    """The schema of one item."""
    return ItemOut(
        id=item.id,
        module_id=item.module_id,
        kind=item.kind,
        title=item.title,
        position=item.position,
        published=item.published,
        target_id=item.target_id,
        url=item.url,
        file_id=item.file_id,
        starts_at=item.starts_at,
        requirement=item.requirement,
        min_watch=item.min_watch,
        progress=progress,
    )


def _lock(
    module: CourseModule,
    unlock_at: datetime | None,
    viewer: Viewer,
    complete: set[str],
    titles: dict[str, str],
    now: datetime,
) -> str | None:
    if viewer.drafts:
        return None
    if not viewer.learner:
        return "Enrol in the course to open it."
    if unlock_at is not None and unlock_at > now:
        return f"Opens {unlock_at.isoformat()}."
    missing = [
        titles.get(p, "an earlier module") for p in module.prerequisites if p not in complete
    ]
    return f"Complete {', '.join(missing)} first." if missing else None


def content(
    course_id: uuid.UUID,
    modules: Sequence[CourseModule],
    items: Sequence[ModuleItem],
    progress: dict[uuid.UUID, ItemProgress],
    viewer: Viewer,
    now: datetime,
    paced: dict[uuid.UUID, datetime] | None = None,
) -> CourseContentOut:
    """The course's modules and items as `viewer` sees them, with their progress.

    ``paced`` (module id -> opening time) is the learner's cohort pacing: it takes the place
    of a paced module's own ``unlock_at``."""
    by_module: dict[uuid.UUID, list[ModuleItem]] = {}
    for item in items:
        if item.published or viewer.drafts:
            by_module.setdefault(item.module_id, []).append(item)
    titles = {str(m.id): m.title for m in modules}
    complete: set[str] = set()
    shown: list[ModuleOut] = []
    done_total = required_total = 0
    for module in modules:
        if not (module.published or viewer.drafts):
            continue
        visible = by_module.get(module.id, [])
        learner_items = [i for i in visible if i.published]
        done = sum(1 for i in learner_items if _completed(progress.get(i.id)))
        if module.published and done == len(learner_items):
            complete.add(str(module.id))
        unlock_at = (paced or {}).get(module.id, module.unlock_at)
        reason = _lock(module, unlock_at, viewer, complete, titles, now)
        shown.append(
            ModuleOut(
                id=module.id,
                title=module.title,
                position=module.position,
                published=module.published,
                unlock_at=unlock_at,
                prerequisites=[uuid.UUID(p) for p in module.prerequisites],
                locked=reason is not None,
                lock_reason=reason,
                completed=done,
                required=len(learner_items),
                items=[
                    item_out(i, progress_out(progress.get(i.id)) if viewer.learner else None)
                    for i in visible
                ],
            )
        )
        if module.published:
            done_total += done
            required_total += len(learner_items)
    percent = round(100 * done_total / required_total, 1) if required_total else 0.0
    return CourseContentOut(
        course_id=course_id, can_edit=viewer.editor, modules=shown, percent=percent
    )


def _completed(row: ItemProgress | None) -> bool:
    return row is not None and row.completed_at is not None


def open_item(view: CourseContentOut, item_id: uuid.UUID) -> tuple[ModuleOut, ItemOut] | None:
    """The item with its module if `view` shows it, else None."""
    for module in view.modules:
        for item in module.items:
            if item.id == item_id:
                return module, item
    return None


def home(view: CourseContentOut, title: str, now: datetime) -> CourseHomeOut:
    """What is next: the first unlocked item not completed, and live sessions to come."""
    next_item: NextItem | None = None
    upcoming: list[NextItem] = []
    for module in view.modules:
        for item in module.items:
            entry = NextItem(item=item, module_id=module.id, module_title=module.title)
            if item.kind == "live_session" and item.starts_at and item.starts_at > now:
                upcoming.append(entry)
            completed = item.progress is not None and item.progress.completed
            if next_item is None and not module.locked and item.published and not completed:
                next_item = entry
    upcoming.sort(key=lambda e: e.item.starts_at or now)
    return CourseHomeOut(
        course_id=view.course_id,
        title=title,
        percent=view.percent,
        next=next_item,
        upcoming=upcoming[:10],
    )
