"""A course's gradebook read in one go (settings, groups, columns, learners, their scores
and overrides) and the grades of each learner computed from it by ``compute``: the grid,
a learner's own page, the CSV export and the API all go through ``Book.grades``.

A learner sees a column's score only once it is posted (``posted_at``): their own grades are
computed without the cells they cannot see yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.gradebook.compute import (
    DEFAULT_SCHEME,
    Cell,
    ColumnRule,
    Grades,
    GroupRule,
    MissingPolicy,
    Policy,
    compute,
)
from persistence.models import (
    Enrollment,
    GradebookSettings,
    GradeColumn,
    GradeGroup,
    GradeOverride,
    GradeScore,
    User,
)


def policy_of(settings: GradebookSettings | None) -> Policy:
    """The computation's policy from a course's settings (none saved: the defaults)."""
    if settings is None:
        return Policy()
    scheme = DEFAULT_SCHEME
    if settings.scheme:
        scheme = tuple((str(name), Decimal(str(bound))) for name, bound in settings.scheme)
    missing: MissingPolicy = "ungraded" if settings.missing_policy == "ungraded" else "zero"
    return Policy(weighted=settings.weighted, missing=missing, scheme=scheme)


@dataclass(frozen=True)
class Learner:
    """A student of the course as the gradebook lists them."""

    id: uuid.UUID
    name: str
    email: str


@dataclass
class Book:
    """One course's gradebook, loaded for reading (and computing)."""

    course_id: uuid.UUID
    settings: GradebookSettings | None
    policy: Policy
    groups: list[GradeGroup]
    columns: list[GradeColumn]
    learners: list[Learner]
    scores: dict[tuple[uuid.UUID, uuid.UUID], GradeScore]
    overrides: dict[uuid.UUID, GradeOverride]

    def group_of(self, column: GradeColumn) -> uuid.UUID | None:
        """The column's group (a column whose group was deleted joins the first)."""
        ids = {g.id for g in self.groups}
        if column.group_id in ids:
            return column.group_id
        return self.groups[0].id if self.groups else None

    def cell(self, column_id: uuid.UUID, user_id: uuid.UUID) -> GradeScore | None:
        """A learner's score row in a column (None: never graded)."""
        return self.scores.get((column_id, user_id))

    def grades(self, user_id: uuid.UUID, *, as_learner: bool = False) -> Grades:
        """``user_id``'s grades; ``as_learner``: only from what is posted to them."""
        rules: list[ColumnRule] = []
        cells: dict[Hashable, Cell] = {}
        for column in self.columns:
            row = self.cell(column.id, user_id)
            hidden = as_learner and (row is None or row.posted_at is None)
            rules.append(
                ColumnRule(
                    column.id,
                    self.group_of(column),
                    column.points_possible,
                    never_drop=column.never_drop,
                    extra_credit=column.extra_credit,
                    omit_from_final=column.omit_from_final or hidden,
                )
            )
            if row is not None:
                cells[column.id] = Cell(row.score, row.excused, row.missing)
        groups = [
            GroupRule(g.id, g.weight, g.drop_lowest, g.drop_highest, g.extra_credit)
            for g in self.groups
        ]
        override = self.overrides.get(user_id)
        return compute(rules, groups, cells, self.policy, override.percent if override else None)


async def learners(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    only: Iterable[uuid.UUID] | None = None,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[Learner]:
    """The course's students by id (a stable order for cursor paging; pages are sorted by
    name for people), after the id ``after``, at most ``limit``."""
    query = (
        select(User.id, User.name, User.email)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, Enrollment.role == "student")
        .order_by(User.id)
    )
    if only is not None:
        query = query.where(User.id.in_(list(only)))
    if after is not None:
        query = query.where(User.id > after)
    if limit is not None:
        query = query.limit(limit)
    found = [Learner(*row) for row in (await session.execute(query)).all()]
    return sorted(found, key=lambda p: (p.name.casefold(), str(p.id)))


async def load(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    only: Iterable[uuid.UUID] | None = None,
    people: list[Learner] | None = None,
) -> Book:
    """The course's gradebook; ``only``: just these learners' rows (``people``: these,
    already read)."""
    settings = await session.get(GradebookSettings, course_id)
    groups = list(
        (
            await session.execute(
                select(GradeGroup)
                .where(GradeGroup.course_id == course_id)
                .order_by(GradeGroup.position, GradeGroup.created_at, GradeGroup.id)
            )
        ).scalars()
    )
    columns = list(
        (
            await session.execute(
                select(GradeColumn)
                .where(GradeColumn.course_id == course_id)
                .order_by(GradeColumn.position, GradeColumn.created_at, GradeColumn.id)
            )
        ).scalars()
    )
    if people is None:
        people = await learners(session, course_id, only=only)
    ids = [p.id for p in people]
    scores: dict[tuple[uuid.UUID, uuid.UUID], GradeScore] = {}
    overrides: dict[uuid.UUID, GradeOverride] = {}
    for chunk in _chunks(ids, 500):
        rows = await session.execute(
            select(GradeScore)
            .join(GradeColumn, GradeColumn.id == GradeScore.column_id)
            .where(GradeColumn.course_id == course_id, GradeScore.user_id.in_(chunk))
        )
        scores.update({(r.column_id, r.user_id): r for r in rows.scalars()})
        found = await session.execute(
            select(GradeOverride).where(
                GradeOverride.course_id == course_id, GradeOverride.user_id.in_(chunk)
            )
        )
        overrides.update({o.user_id: o for o in found.scalars()})
    return Book(
        course_id, settings, policy_of(settings), groups, columns, people, scores, overrides
    )


def _chunks(ids: list[uuid.UUID], size: int) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
