"""Assignments' settings and instructions, per-student extensions and group sets.

An assignment's instructions are a course page (``lms.content.pages``): written live in the
page editor and published like any page; students read the published HTML here. No HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assignments.schemas import AssignmentIn, ExtensionIn, GroupSetIn, LatePolicy
from lms.content import structure
from lms.errors import Conflict, InvalidInput, NotFound
from persistence.models import (
    Assignment,
    Enrollment,
    Extension,
    GroupMember,
    GroupSet,
    Page,
    Rubric,
    StudentGroup,
    User,
)

MAX_ASSIGNMENTS_PER_COURSE: Final = 1000
DEFAULT_POINTS: Final = Decimal(100)
DEFAULT_TEXT_CHARS: Final = 50_000
DEFAULT_FILE_BYTES: Final = 50 * 1024 * 1024


async def assignment(session: AsyncSession, assignment_id: uuid.UUID) -> Assignment:
    """An assignment by id, or 404."""
    found = await session.get(Assignment, assignment_id)
    if found is None:
        raise NotFound("No such assignment.")
    return found


async def list_assignments(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    drafts: bool,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[Assignment], uuid.UUID | None]:
    """A page of a course's assignments by id (learners: published ones only)."""
    query = select(Assignment).where(Assignment.course_id == course_id)
    if not drafts:
        query = query.where(Assignment.published.is_(True))
    if after is not None:
        query = query.where(Assignment.id > after)
    rows = list((await session.scalars(query.order_by(Assignment.id).limit(limit + 1))).all())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


def late_policy(row: Assignment) -> LatePolicy:
    """The stored late policy."""
    return LatePolicy(per_day=row.late_per_day, cap=row.late_cap, floor=row.late_floor)


async def create(
    session: AsyncSession, course_id: uuid.UUID, body: AssignmentIn, *, by: uuid.UUID
) -> Assignment:
    """A new assignment with an empty instructions page (a draft unless published)."""
    if body.title is None:
        raise InvalidInput("An assignment needs a title.")
    count = await session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.course_id == course_id)
    )
    if (count or 0) >= MAX_ASSIGNMENTS_PER_COURSE:
        raise Conflict(f"A course holds at most {MAX_ASSIGNMENTS_PER_COURSE} assignments.")
    page = Page(course_id=course_id, title=f"Instructions: {body.title}", created_by=by)
    session.add(page)
    await session.flush()
    row = Assignment(
        course_id=course_id,
        page_id=page.id,
        title=body.title,
        points=DEFAULT_POINTS,
        published=False,
        submission_types=["text"],
        allowed_extensions=[],
        max_file_bytes=DEFAULT_FILE_BYTES,
        max_text_chars=DEFAULT_TEXT_CHARS,
        late_per_day=Decimal(0),
        late_cap=Decimal(100),
        late_floor=Decimal(0),
        anonymous=False,
        created_by=by,
    )
    await update(session, row, body)
    session.add(row)
    await session.flush()
    return row


async def update(session: AsyncSession, row: Assignment, body: AssignmentIn) -> None:
    """Change the fields given in ``body``; the dates must keep their order."""
    fields = body.model_dump(exclude_unset=True)
    for name in (
        "title",
        "points",
        "published",
        "submission_types",
        "allowed_extensions",
        "max_file_bytes",
        "max_text_chars",
        "anonymous",
    ):
        if name in fields:
            if fields[name] is None:
                raise InvalidInput(f"{name} cannot be null.")
            setattr(row, name, getattr(body, name))
    for name in ("available_from", "due_at", "lock_at"):
        if name in fields:
            setattr(row, name, getattr(body, name))
    if body.allowed_extensions is not None:
        row.allowed_extensions = sorted(set(body.allowed_extensions))
    if body.late_policy is not None:
        policy = body.late_policy
        row.late_per_day, row.late_cap, row.late_floor = policy.per_day, policy.cap, policy.floor
    if "group_set_id" in fields:
        await _same_course(session, GroupSet, body.group_set_id, row.course_id, "group set")
        row.group_set_id = body.group_set_id
    if "rubric_id" in fields:
        await _same_course(session, Rubric, body.rubric_id, row.course_id, "rubric")
        row.rubric_id = body.rubric_id
    if "anonymous" in fields and not row.anonymous:
        row.names_revealed_at = None
    check_dates(row.available_from, row.due_at, row.lock_at)


async def _same_course(
    session: AsyncSession,
    model: type[GroupSet] | type[Rubric],
    target: uuid.UUID | None,
    course_id: uuid.UUID,
    what: str,
) -> None:
    if target is None:
        return
    found: GroupSet | Rubric | None = await session.get(model, target)
    if found is None or found.course_id != course_id:
        raise InvalidInput(f"That {what} is not one of this course's.")


def check_dates(
    available_from: datetime | None, due_at: datetime | None, lock_at: datetime | None
) -> None:
    """available_from <= due_at <= lock_at, for those that are set."""
    present = [d for d in (available_from, due_at, lock_at) if d is not None]
    if present != sorted(present):
        raise InvalidInput("Dates must come in order: available from, due, lock.")


async def delete(session: AsyncSession, row: Assignment) -> None:
    """Delete an assignment with its submissions, grades and the items showing it (the
    instructions page stays with the course)."""
    await structure.delete_items_showing(session, "assignment", row.id)
    await session.delete(row)


async def extension_of(
    session: AsyncSession, assignment_id: uuid.UUID, user_id: uuid.UUID
) -> Extension | None:
    """A student's extension on an assignment, if any."""
    query = select(Extension).where(
        Extension.assignment_id == assignment_id, Extension.user_id == user_id
    )
    return (await session.scalars(query)).one_or_none()


async def dates_for(
    session: AsyncSession, row: Assignment, user_id: uuid.UUID
) -> tuple[datetime | None, datetime | None]:
    """(due, lock) that apply to this student: their extension's, else the assignment's."""
    extension = await extension_of(session, row.id, user_id)
    if extension is None:
        return row.due_at, row.lock_at
    return extension.due_at or row.due_at, extension.lock_at or row.lock_at


async def students_of(session: AsyncSession, course_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(user id, name) of the course's students."""
    query = (
        select(User.id, User.name)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, Enrollment.role == "student")
        .order_by(User.name, User.id)
    )
    return [(u, n) for u, n in (await session.execute(query)).all()]


async def is_student(session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the user is a student of the course."""
    found = await session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == course_id, Enrollment.user_id == user_id
        )
    )
    return found == "student"


async def set_extension(session: AsyncSession, row: Assignment, body: ExtensionIn) -> Extension:
    """Give one student a new due and/or lock date (replacing any earlier extension)."""
    if not await is_student(session, row.course_id, body.user_id):
        raise InvalidInput("Extensions are for the course's students.")
    check_dates(row.available_from, body.due_at or row.due_at, body.lock_at or row.lock_at)
    found = await extension_of(session, row.id, body.user_id)
    if found is None:
        found = Extension(assignment_id=row.id, user_id=body.user_id)
        session.add(found)
    found.due_at, found.lock_at = body.due_at, body.lock_at
    await session.flush()
    return found


async def extensions_of(session: AsyncSession, assignment_id: uuid.UUID) -> list[Extension]:
    """Every extension of an assignment."""
    query = select(Extension).where(Extension.assignment_id == assignment_id)
    return list((await session.scalars(query.order_by(Extension.user_id))).all())


async def create_group_set(
    session: AsyncSession, course_id: uuid.UUID, body: GroupSetIn
) -> GroupSet:
    """A group set of the course's students (each in at most one group)."""
    members = [m for g in body.groups for m in g.members]
    if len(members) != len(set(members)):
        raise InvalidInput("A student is in at most one group of a set.")
    students = {u for u, _ in await students_of(session, course_id)}
    if not set(members) <= students:
        raise InvalidInput("Groups are made of the course's students.")
    made = GroupSet(course_id=course_id, name=body.name)
    session.add(made)
    await session.flush()
    for spec in body.groups:
        group = StudentGroup(group_set_id=made.id, name=spec.name)
        session.add(group)
        await session.flush()
        for user_id in spec.members:
            session.add(GroupMember(group_set_id=made.id, group_id=group.id, user_id=user_id))
    await session.flush()
    return made


async def groups_of(
    session: AsyncSession, group_set_id: uuid.UUID
) -> list[tuple[StudentGroup, list[uuid.UUID]]]:
    """The groups of a set with their members."""
    groups = (
        await session.scalars(
            select(StudentGroup)
            .where(StudentGroup.group_set_id == group_set_id)
            .order_by(StudentGroup.name, StudentGroup.id)
        )
    ).all()
    members: dict[uuid.UUID, list[uuid.UUID]] = {g.id: [] for g in groups}
    rows = await session.execute(
        select(GroupMember.group_id, GroupMember.user_id)
        .where(GroupMember.group_set_id == group_set_id)
        .order_by(GroupMember.user_id)
    )
    for group_id, user_id in rows.all():
        members[group_id].append(user_id)
    return [(g, members[g.id]) for g in groups]


async def group_sets_of(session: AsyncSession, course_id: uuid.UUID) -> Sequence[GroupSet]:
    """A course's group sets by name."""
    query = select(GroupSet).where(GroupSet.course_id == course_id)
    return (await session.scalars(query.order_by(GroupSet.name, GroupSet.id))).all()


async def group_of(
    session: AsyncSession, row: Assignment, user_id: uuid.UUID
) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """(group id, members) of a student on a group assignment; (None, [user]) otherwise
    (a student in no group of the set hands in alone)."""
    if row.group_set_id is None:
        return None, [user_id]
    group_id = await session.scalar(
        select(GroupMember.group_id).where(
            GroupMember.group_set_id == row.group_set_id, GroupMember.user_id == user_id
        )
    )
    if group_id is None:
        return None, [user_id]
    members = await session.scalars(
        select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    )
    return group_id, sorted(members.all())
