"""Course copy, the assignments' part: a course's rubrics, its group sets (their names only:
which students form which group belongs to one run of a course) and its assignments, with
their instructions page, rubric and group set pointing at the copies. Submissions, grades,
comments and extensions (people's) are never copied; nor is a reveal of anonymous names."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Assignment, GroupSet, Rubric
from persistence.models.base import copy_of


async def copy_assignments(
    session: AsyncSession,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    pages: dict[uuid.UUID, uuid.UUID],
    by: uuid.UUID,
) -> dict[uuid.UUID, uuid.UUID]:
    """Copy the rubrics, group sets and assignments of course ``source_id`` into
    ``target_id`` (``pages``: the copied pages, old to new); the assignments, old to new."""
    ids: dict[uuid.UUID, uuid.UUID] = {}
    rubrics = await session.scalars(
        select(Rubric).where(Rubric.course_id == source_id).order_by(Rubric.id)
    )
    for rubric in rubrics.all():
        new_rubric = copy_of(rubric, course_id=target_id, created_by=by)
        session.add(new_rubric)
        await session.flush()
        ids[rubric.id] = new_rubric.id
    sets = await session.scalars(
        select(GroupSet).where(GroupSet.course_id == source_id).order_by(GroupSet.id)
    )
    for group_set in sets.all():
        new_set = copy_of(group_set, course_id=target_id)
        session.add(new_set)
        await session.flush()
        ids[group_set.id] = new_set.id
    assignments: dict[uuid.UUID, uuid.UUID] = {}
    found = await session.scalars(
        select(Assignment).where(Assignment.course_id == source_id).order_by(Assignment.id)
    )
    for row in found.all():
        new = copy_of(
            row,
            course_id=target_id,
            page_id=pages.get(row.page_id) if row.page_id else None,
            rubric_id=ids.get(row.rubric_id) if row.rubric_id else None,
            group_set_id=ids.get(row.group_set_id) if row.group_set_id else None,
            names_revealed_at=None,
            created_by=by,
        )
        session.add(new)
        await session.flush()
        assignments[row.id] = new.id
    return assignments
