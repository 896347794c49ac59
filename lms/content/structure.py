"""A course's modules and the items in them: create, change, order, move, delete.

Positions are kept dense (0..n-1) within a course's modules and within each module's items,
rewritten on every change that moves something, so an order read back is the order set.
Prerequisites name earlier modules of the same course only, which rules out cycles; a
reorder that would put a module before one of its prerequisites is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.content.schemas import ItemIn, ModuleIn, Order, Placement
from lms.content.targets import check_target
from lms.errors import Conflict, InvalidInput, NotFound
from lms.rooms import service as rooms
from persistence.models import CourseModule, ModuleItem

MAX_MODULES: Final = 500
MAX_ITEMS_PER_MODULE: Final = 500
MAX_ITEMS_PER_COURSE: Final = 5000
"""A course's whole structure is read on every content request: these keep it bounded."""
_DEFAULT_REQUIREMENT: Final = {
    "video": "watch",
    "quiz": "submit",
    "assignment": "submit",
    "lab": "submit",
}


async def modules_of(session: AsyncSession, course_id: uuid.UUID) -> list[CourseModule]:
    """A course's modules in order."""
    query = (
        select(CourseModule)
        .where(CourseModule.course_id == course_id)
        .order_by(CourseModule.position, CourseModule.created_at)
    )
    return list((await session.scalars(query)).all())


async def items_of(session: AsyncSession, course_id: uuid.UUID) -> list[ModuleItem]:
    """Every item of a course, in module order then position."""
    query = (
        select(ModuleItem)
        .join(CourseModule, CourseModule.id == ModuleItem.module_id)
        .where(ModuleItem.course_id == course_id)
        .order_by(CourseModule.position, ModuleItem.position, ModuleItem.created_at)
    )
    return list((await session.scalars(query)).all())


async def module(session: AsyncSession, module_id: uuid.UUID) -> CourseModule:
    """A module by id, or 404."""
    found = await session.get(CourseModule, module_id)
    if found is None:
        raise NotFound("No such module.")
    return found


async def item(session: AsyncSession, item_id: uuid.UUID) -> ModuleItem:
    """An item by id, or 404."""
    found = await session.get(ModuleItem, item_id)
    if found is None:
        raise NotFound("No such item.")
    return found


def _check_prerequisites(
    target: CourseModule, wanted: Sequence[uuid.UUID], modules: Sequence[CourseModule]
) -> list[str]:
    position = {m.id: i for i, m in enumerate(modules)}
    mine = position.get(target.id, len(modules))
    for prerequisite in wanted:
        if prerequisite not in position:
            raise InvalidInput("A prerequisite must be a module of the same course.")
        if position[prerequisite] >= mine:
            raise InvalidInput("A prerequisite must come before the module that needs it.")
    return sorted({str(p) for p in wanted})


async def create_module(
    session: AsyncSession, course_id: uuid.UUID, body: ModuleIn
) -> CourseModule:
    """A new module at the end of the course (a draft unless `published`)."""
    if body.title is None:
        raise InvalidInput("A module needs a title.")
    modules = await modules_of(session, course_id)
    if len(modules) >= MAX_MODULES:
        raise Conflict(f"A course holds at most {MAX_MODULES} modules.")
    created = CourseModule(
        course_id=course_id,
        title=body.title,
        position=len(modules),
        published=bool(body.published),
        unlock_at=body.unlock_at,
        prerequisites=[],
    )
    created.prerequisites = _check_prerequisites(created, body.prerequisites or [], modules)
    session.add(created)
    await session.flush()
    return created


async def update_module(session: AsyncSession, target: CourseModule, body: ModuleIn) -> None:
    """Change the fields given in `body`."""
    fields = body.model_dump(exclude_unset=True)
    if "title" in fields:
        if body.title is None:
            raise InvalidInput("A module needs a title.")
        target.title = body.title
    if "published" in fields:
        target.published = bool(body.published)
    if "unlock_at" in fields:
        target.unlock_at = body.unlock_at
    if "prerequisites" in fields:
        modules = await modules_of(session, target.course_id)
        target.prerequisites = _check_prerequisites(target, body.prerequisites or [], modules)


async def delete_module(session: AsyncSession, target: CourseModule) -> None:
    """Delete a module with its items; later modules stop requiring it."""
    modules = [m for m in await modules_of(session, target.course_id) if m.id != target.id]
    for other in modules:
        if str(target.id) in other.prerequisites:
            other.prerequisites = [p for p in other.prerequisites if p != str(target.id)]
    await session.delete(target)
    _renumber(modules)


def _renumber(rows: Sequence[CourseModule | ModuleItem]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position


async def reorder_modules(session: AsyncSession, course_id: uuid.UUID, order: Order) -> None:
    """Put the course's modules in `order` (each of its modules exactly once)."""
    modules = {m.id: m for m in await modules_of(session, course_id)}
    if len(order.ids) != len(set(order.ids)) or set(order.ids) != set(modules):
        raise InvalidInput("Give every module of the course exactly once.")
    position = {module_id: i for i, module_id in enumerate(order.ids)}
    for moved in modules.values():
        if any(position[uuid.UUID(p)] >= position[moved.id] for p in moved.prerequisites):
            raise Conflict(f"“{moved.title}” would come before a module it requires.")
    _renumber([modules[module_id] for module_id in order.ids])


async def _items_in(session: AsyncSession, module_id: uuid.UUID) -> list[ModuleItem]:
    query = (
        select(ModuleItem)
        .where(ModuleItem.module_id == module_id)
        .order_by(ModuleItem.position, ModuleItem.created_at)
    )
    return list((await session.scalars(query)).all())


async def create_item(
    session: AsyncSession, parent: CourseModule, body: ItemIn, *, by: uuid.UUID
) -> ModuleItem:
    """A new item at the end of `parent`, its target checked against the course; a live
    session given no room gets a new room of the course, hosted by `by`."""
    if body.kind is None or body.title is None:
        raise InvalidInput("An item needs a kind and a title.")
    count = await session.scalar(
        select(func.count()).select_from(ModuleItem).where(ModuleItem.module_id == parent.id)
    )
    if (count or 0) >= MAX_ITEMS_PER_MODULE:
        raise Conflict(f"A module holds at most {MAX_ITEMS_PER_MODULE} items.")
    in_course = await session.scalar(
        select(func.count()).select_from(ModuleItem).where(ModuleItem.course_id == parent.course_id)
    )
    if (in_course or 0) >= MAX_ITEMS_PER_COURSE:
        raise Conflict(f"A course holds at most {MAX_ITEMS_PER_COURSE} items.")
    created = ModuleItem(
        course_id=parent.course_id,
        module_id=parent.id,
        kind=body.kind,
        title=body.title,
        position=count or 0,
        published=bool(body.published),
        requirement=body.requirement or _DEFAULT_REQUIREMENT.get(body.kind, "view"),
        min_watch=body.min_watch if body.min_watch is not None else 0.9,
    )
    _apply(created, body)
    if created.kind == "live_session" and created.target_id is None:
        room = await rooms.create_room(
            session, title=created.title, created_by=by, course_id=parent.course_id
        )
        created.target_id = room.id
    await check_target(session, created)
    session.add(created)
    await session.flush()
    return created


def _apply(target: ModuleItem, body: ItemIn) -> None:
    fields = body.model_dump(exclude_unset=True)
    nullable = ("target_id", "file_id", "starts_at")
    for name in ("title", "published", "requirement", "min_watch", *nullable):
        if name in fields and (fields[name] is not None or name in nullable):
            setattr(target, name, getattr(body, name))
    if "url" in fields:
        target.url = str(body.url) if body.url is not None else None


async def update_item(session: AsyncSession, target: ModuleItem, body: ItemIn) -> None:
    """Change the fields given in `body` (an item's kind stays what it was)."""
    if body.kind is not None and body.kind != target.kind:
        raise InvalidInput("An item's kind cannot change; add a new item instead.")
    _apply(target, body)
    await check_target(session, target)


async def move_item(session: AsyncSession, target: ModuleItem, placement: Placement) -> None:
    """Move an item to a position in a module of the same course (drag and drop)."""
    destination = await module(session, placement.module_id)
    if destination.course_id != target.course_id:
        raise InvalidInput("Items move only between modules of the same course.")
    source_items = [i for i in await _items_in(session, target.module_id) if i.id != target.id]
    if destination.id == target.module_id:
        rows = source_items
    else:
        rows = await _items_in(session, destination.id)
        if len(rows) >= MAX_ITEMS_PER_MODULE:
            raise Conflict(f"A module holds at most {MAX_ITEMS_PER_MODULE} items.")
        _renumber(source_items)
        target.module_id = destination.id
    rows.insert(min(placement.position, len(rows)), target)
    _renumber(rows)


async def delete_item(session: AsyncSession, target: ModuleItem) -> None:
    """Delete an item (its learners' progress on it goes with it)."""
    rest = [i for i in await _items_in(session, target.module_id) if i.id != target.id]
    await session.delete(target)
    _renumber(rest)


async def delete_items_showing(session: AsyncSession, kind: str, target_id: uuid.UUID) -> None:
    """Delete the items of ``kind`` that show ``target_id`` (a page or video being deleted)."""
    shown = await session.scalars(
        select(ModuleItem).where(ModuleItem.kind == kind, ModuleItem.target_id == target_id)
    )
    for found in shown.all():
        await session.delete(found)
