"""The shape of a course's gradebook: its settings (weighted groups or points, the missing
policy, the letter scheme), its assignment groups (weights, drops, extra credit) and its
columns (manual columns added by hand; every column's group, drop and posting options).
Changes here change computed grades but not any learner's cell, so they are audited by the
routes rather than written to the grade history."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict, InvalidInput, NotFound
from lms.gradebook.service import default_group, to_points
from persistence.models import GradebookSettings, GradeColumn, GradeGroup
from persistence.models.base import utcnow

MAX_GROUPS = 50
MAX_COLUMNS = 500
"""Bounds that keep a gradebook's structure one unpaged read (the grid pages learners)."""


async def settings_row(session: AsyncSession, course_id: uuid.UUID) -> GradebookSettings:
    """The course's settings row, created with the defaults when it has none."""
    row = await session.get(GradebookSettings, course_id)
    if row is None:
        row = GradebookSettings(
            course_id=course_id, weighted=False, missing_policy="zero", updated_at=utcnow()
        )
        session.add(row)
        await session.flush()
    return row


async def update_settings(
    session: AsyncSession, course_id: uuid.UUID, changes: dict[str, Any]
) -> GradebookSettings:
    """Apply ``changes`` (weighted, missing_policy, scheme as [[letter, bound], ...])."""
    row = await settings_row(session, course_id)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    return row


async def find_group(
    session: AsyncSession, course_id: uuid.UUID, group_id: uuid.UUID
) -> GradeGroup:
    """A group of the course (404 otherwise)."""
    group = await session.get(GradeGroup, group_id)
    if group is None or group.course_id != course_id:
        raise NotFound("No such assignment group.")
    return group


async def find_column(
    session: AsyncSession, course_id: uuid.UUID, column_id: uuid.UUID
) -> GradeColumn:
    """A column of the course (404 otherwise)."""
    column = await session.get(GradeColumn, column_id)
    if column is None or column.course_id != course_id:
        raise NotFound("No such gradebook column.")
    return column


async def add_group(
    session: AsyncSession, course_id: uuid.UUID, fields: dict[str, Any]
) -> GradeGroup:
    """A new assignment group, after the others."""
    count, last = (
        await session.execute(
            select(func.count(), func.coalesce(func.max(GradeGroup.position), -1)).where(
                GradeGroup.course_id == course_id
            )
        )
    ).one()
    if count >= MAX_GROUPS:
        raise Conflict(f"A course has at most {MAX_GROUPS} assignment groups.")
    group = GradeGroup(id=uuid.uuid4(), course_id=course_id, position=int(last) + 1, **fields)
    session.add(group)
    await session.flush()
    return group


def update_group(group: GradeGroup, changes: dict[str, Any]) -> GradeGroup:
    """Apply ``changes`` (name, weight, drop_lowest, drop_highest, extra_credit, position)."""
    for name, value in changes.items():
        setattr(group, name, value)
    return group


async def delete_group(session: AsyncSession, group: GradeGroup) -> None:
    """Delete a group; its columns join the course's first other group (the last group of a
    course that has columns cannot go)."""
    others = (
        await session.execute(
            select(GradeGroup)
            .where(GradeGroup.course_id == group.course_id, GradeGroup.id != group.id)
            .order_by(GradeGroup.position, GradeGroup.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    columns = await session.execute(select(func.count()).where(GradeColumn.group_id == group.id))
    if others is None and columns.scalar_one():
        raise Conflict("The course's last assignment group has columns; add another first.")
    if others is not None:
        await session.execute(
            update(GradeColumn).where(GradeColumn.group_id == group.id).values(group_id=others.id)
        )
    await session.delete(group)


async def add_manual_column(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    title: str,
    points_possible: Decimal,
    group_id: uuid.UUID | None,
    due_at: datetime | None,
) -> GradeColumn:
    """A column an instructor adds by hand (its own id is its source id)."""
    count, last = (
        await session.execute(
            select(func.count(), func.coalesce(func.max(GradeColumn.position), -1)).where(
                GradeColumn.course_id == course_id
            )
        )
    ).one()
    if count >= MAX_COLUMNS:
        raise Conflict(f"A gradebook has at most {MAX_COLUMNS} columns.")
    group = (
        await find_group(session, course_id, group_id)
        if group_id is not None
        else await default_group(session, course_id)
    )
    column_id = uuid.uuid4()
    column = GradeColumn(
        id=column_id,
        course_id=course_id,
        group_id=group.id,
        source="manual",
        source_id=column_id,
        title=title,
        points_possible=to_points(points_possible, what="Points possible"),
        due_at=due_at,
        position=int(last) + 1,
    )
    session.add(column)
    await session.flush()
    return column


MANUAL_ONLY = frozenset({"title", "points_possible", "due_at"})


async def update_column(
    session: AsyncSession, column: GradeColumn, changes: dict[str, Any]
) -> GradeColumn:
    """Apply ``changes``: group, position, never_drop, extra_credit, omit_from_final (any
    column); title, points and due date only for a manual column (the others follow their
    quiz or assignment). The post policy is changed by ``release.set_policy``."""
    if column.source != "manual" and (named := sorted(MANUAL_ONLY & changes.keys())):
        raise InvalidInput(
            f"This column follows its {column.source}; change {', '.join(named)} there."
        )
    if (group_id := changes.get("group_id")) is not None:
        await find_group(session, column.course_id, group_id)
    if "points_possible" in changes:
        changes["points_possible"] = to_points(changes["points_possible"], what="Points possible")
    for name, value in changes.items():
        setattr(column, name, value)
    column.updated_at = utcnow()
    return column


async def delete_column(session: AsyncSession, column: GradeColumn) -> None:
    """Delete a manual column and its scores (the history keeps its changes)."""
    if column.source != "manual":
        raise Conflict(f"This column belongs to a {column.source}; it goes when that goes.")
    await session.delete(column)
