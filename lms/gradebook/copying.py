"""Course copy, the gradebook's part: its settings (weighted, missing policy, letter scheme),
its assignment groups, and its columns: manual ones, and those of the quizzes and
assignments that were copied (pointing at the copies, in the copied groups). Scores,
overrides and the grade history (people's) are never copied."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import GradebookSettings, GradeColumn, GradeGroup
from persistence.models.base import copy_of


async def copy_gradebook(
    session: AsyncSession,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    sources: dict[str, dict[uuid.UUID, uuid.UUID]],
) -> None:
    """Copy course ``source_id``'s gradebook structure into ``target_id``; ``sources`` maps
    each copied column source ("quiz", "assignment") to its copies, old id to new."""
    settings = await session.get(GradebookSettings, source_id)
    if settings is not None:
        session.add(copy_of(settings, course_id=target_id))
    groups: dict[uuid.UUID, uuid.UUID] = {}
    found = await session.scalars(
        select(GradeGroup).where(GradeGroup.course_id == source_id).order_by(GradeGroup.id)
    )
    for group in found.all():
        new_group = copy_of(group, course_id=target_id)
        session.add(new_group)
        await session.flush()
        groups[group.id] = new_group.id
    columns = await session.scalars(
        select(GradeColumn).where(GradeColumn.course_id == source_id).order_by(GradeColumn.id)
    )
    for column in columns.all():
        group_id = groups.get(column.group_id) if column.group_id else None
        if column.source == "manual":
            new_id = uuid.uuid4()
            session.add(
                copy_of(column, id=new_id, source_id=new_id, course_id=target_id, group_id=group_id)
            )
        elif (copied := sources.get(column.source, {}).get(column.source_id)) is not None:
            session.add(copy_of(column, source_id=copied, course_id=target_id, group_id=group_id))
    await session.flush()
