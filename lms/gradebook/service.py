"""The gradebook's interface for the other assessment domains and its write rules: a column
per gradable thing (``ensure_column``, ``column_for``), a learner's score in it
(``record_score``, ``set_grade``), every change written to the grade history.

Everything runs inside the caller's transaction; nothing here commits. Scores are Decimal
with two decimal places (``Numeric(9, 2)``): a finer value is rounded half up to the cent
before it is stored (``to_points``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.errors import NotFound
from lms.gradebook import release
from lms.gradebook.errors import InvalidScore, StaleGrade
from lms.gradebook.events import GRADES_POSTED, GradesPosted
from lms.gradebook.history import log_change
from persistence.models import GradeColumn, GradeGroup, GradeScore
from persistence.models.base import utcnow

ColumnSource = Literal["quiz", "assignment", "live_quiz", "lab", "manual"]
PostPolicy = Literal["automatic", "manual"]
SOURCES: tuple[ColumnSource, ...] = ("quiz", "assignment", "live_quiz", "lab", "manual")
DEFAULT_POLICY: dict[str, PostPolicy] = {
    "quiz": "automatic",
    "assignment": "manual",
    "live_quiz": "automatic",
    "lab": "automatic",
    "manual": "automatic",
}
CENT = Decimal("0.01")
MAX_POINTS = Decimal("9999999.99")
DEFAULT_GROUP = "Assignments"


def to_points(value: Decimal | int | str | float, *, what: str = "A score") -> Decimal:
    """``value`` as stored: a finite Decimal rounded half up to two decimal places, within
    +-9,999,999.99 (InvalidScore otherwise)."""
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not number.is_finite():
            raise InvalidOperation
        rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise InvalidScore(f"{what} must be a number.") from None
    if abs(rounded) > MAX_POINTS:
        raise InvalidScore(f"{what} must be between -{MAX_POINTS} and {MAX_POINTS}.")
    return rounded


async def default_group(session: AsyncSession, course_id: uuid.UUID) -> GradeGroup:
    """The course's first assignment group, created ("Assignments") when it has none."""
    query = (
        select(GradeGroup)
        .where(GradeGroup.course_id == course_id)
        .order_by(GradeGroup.position, GradeGroup.created_at)
        .limit(1)
    )
    group = (await session.execute(query)).scalar_one_or_none()
    if group is None:
        group = GradeGroup(id=uuid.uuid4(), course_id=course_id, name=DEFAULT_GROUP, position=0)
        session.add(group)
        await session.flush()
    return group


async def column_for(
    session: AsyncSession, *, source: ColumnSource, source_id: uuid.UUID
) -> uuid.UUID | None:
    """The id of the column of a gradable thing, or None if it has none yet."""
    query = select(GradeColumn.id).where(
        GradeColumn.source == source, GradeColumn.source_id == source_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def ensure_column(
    session: AsyncSession,
    *,
    course_id: uuid.UUID,
    source: ColumnSource,
    source_id: uuid.UUID,
    title: str,
    points_possible: Decimal,
    due_at: datetime | None = None,
    post_policy: PostPolicy | None = None,
) -> uuid.UUID:
    """The gradebook column for a gradable thing; idempotent on (source, source_id): a
    second call updates title, points and due date and returns the same id. A new column
    joins the course's first assignment group, after its other columns. ``post_policy``
    sets whether its grades show at once (``automatic``) or once posted (``manual``);
    None keeps the column's, and a new column takes its source's default (an
    assignment's grades wait for posting, the others show at once)."""
    if source not in SOURCES:
        raise ValueError(f"unknown column source {source!r}")
    points = to_points(points_possible, what="Points possible")
    if points < 0:
        raise InvalidScore("Points possible cannot be negative.")
    title = title.strip()[:200] or "Untitled"
    found = await session.execute(
        select(GradeColumn).where(GradeColumn.source == source, GradeColumn.source_id == source_id)
    )
    column = found.scalar_one_or_none()
    if column is None:
        group = await default_group(session, course_id)
        last = await session.execute(
            select(func.coalesce(func.max(GradeColumn.position), -1)).where(
                GradeColumn.course_id == course_id
            )
        )
        column = GradeColumn(
            id=uuid.uuid4(),
            course_id=course_id,
            group_id=group.id,
            source=source,
            source_id=source_id,
            title=title,
            points_possible=points,
            due_at=due_at,
            position=int(last.scalar_one()) + 1,
            post_policy=post_policy or DEFAULT_POLICY[source],
        )
        try:
            async with session.begin_nested():  # two first calls at once: one inserts
                session.add(column)
        except IntegrityError:
            again = await column_for(session, source=source, source_id=source_id)
            assert again is not None
            column = await session.get_one(GradeColumn, again)
    if column.course_id != course_id:
        raise ValueError("this gradable thing has a column in another course")
    column.title, column.points_possible, column.due_at = title, points, due_at
    if post_policy is not None and post_policy != column.post_policy:
        await release.set_policy(session, column, post_policy, actor_id=None)
    return column.id


async def post_grades(
    session: AsyncSession,
    *,
    column_id: uuid.UUID,
    user_ids: list[uuid.UUID] | None = None,
    actor_id: uuid.UUID | None = None,
    reason: str = "posted",
) -> list[uuid.UUID]:
    """Release the column's hidden grades (all, or these learners'), who are notified;
    returns whose were released. For the domains that post their own grades."""
    column = await session.get(GradeColumn, column_id)
    if column is None:
        raise NotFound("No such gradebook column.")
    return await release.post(session, column, user_ids=user_ids, actor_id=actor_id, reason=reason)


class _Unchanged:
    """The value of a field a change leaves as it is."""


UNCHANGED: Any = _Unchanged()


@dataclass(frozen=True, kw_only=True)
class GradeEdit:
    """What a change sets; a field left UNCHANGED keeps its value."""

    score: Decimal | None = UNCHANGED
    excused: bool = UNCHANGED
    missing: bool = UNCHANGED
    late: bool = UNCHANGED
    late_deduction: Decimal | None = UNCHANGED
    submitted_at: datetime | None = UNCHANGED


def snapshot(row: GradeScore | None) -> dict[str, Any]:
    """A score's grade-bearing fields as the history stores them (scores as strings, so the
    cents are exact)."""
    if row is None:
        return {"score": None, "excused": False, "missing": False, "late": False}
    value: dict[str, Any] = {
        "score": None if row.score is None else str(to_points(row.score)),
        "excused": row.excused,
        "missing": row.missing,
        "late": row.late,
    }
    if row.late_deduction is not None:
        value["late_deduction"] = str(to_points(row.late_deduction))
    return value


async def score_row(
    session: AsyncSession, column_id: uuid.UUID, user_id: uuid.UUID, *, create: bool
) -> GradeScore | None:
    """A learner's score row in a column, locked for this transaction (PostgreSQL); with
    ``create``, an empty one is inserted when there is none."""
    query = (
        select(GradeScore)
        .where(GradeScore.column_id == column_id, GradeScore.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked row's values, not a stale copy
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is not None or not create:
        return row
    row = GradeScore(column_id=column_id, user_id=user_id, updated_at=utcnow())
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        row = (await session.execute(query)).scalar_one()
    return row


_CELL = (
    "column_id",
    "user_id",
    "score",
    "excused",
    "missing",
    "late",
    "late_deduction",
    "submitted_at",
    "graded_at",
    "grader_id",
    "posted_at",
    "updated_at",
)


async def _insert_first(session: AsyncSession, row: GradeScore) -> bool:
    """Insert a cell's first row (``row``, never added to the session) in one statement,
    no savepoint around it: the database's unique cell makes a second first insert do
    nothing (False; on PostgreSQL after the other transaction commits)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {name: getattr(row, name) for name in _CELL}
    statement = (
        insert(GradeScore)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["column_id", "user_id"])
        .returning(GradeScore.id)
    )
    return (await session.execute(statement)).first() is not None


async def set_grade(
    session: AsyncSession,
    column: GradeColumn,
    user_id: uuid.UUID,
    edit: GradeEdit,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
    expect: dict[str, Any] | None = None,
) -> bool:
    """Apply ``edit`` to a learner's cell; when anything grade-bearing changed, write the
    history row and, in a column that posts automatically, release the cell (and tell the
    learner about a new score). Returns whether anything changed. ``expect``: the cell's
    snapshot the caller saw; another one now is a StaleGrade (someone changed it since)."""
    row = await score_row(session, column.id, user_id, create=False)
    first = row is None
    if row is None:
        # A first grade is inserted as it ends, in one statement (not an empty row in a
        # savepoint and then its update: a quiz's whole class gets its first grade at the
        # deadline, inside each submission's writer transaction).
        row = GradeScore(
            column_id=column.id,
            user_id=user_id,
            score=None,
            excused=False,
            missing=False,
            late=False,
            late_deduction=None,
            submitted_at=None,
            updated_at=utcnow(),
        )
    old = snapshot(row)
    if expect is not None and expect != old:
        raise StaleGrade("This grade changed since it was read; reload and try again.")
    if edit.score is not UNCHANGED:
        row.score = None if edit.score is None else to_points(edit.score)
    if edit.late_deduction is not UNCHANGED:
        deduction = edit.late_deduction
        row.late_deduction = None if deduction is None else to_points(deduction, what="A deduction")
    for flag in ("excused", "missing", "late"):
        if (value := getattr(edit, flag)) is not UNCHANGED:
            setattr(row, flag, bool(value))
    if edit.submitted_at is not UNCHANGED:
        row.submitted_at = edit.submitted_at
    new = snapshot(row)
    now = utcnow()
    if new != old:
        row.updated_at = now
        if new["score"] != old["score"]:
            row.graded_at, row.grader_id = now, actor_id
        if column.post_policy == "automatic":
            row.posted_at = now
    if first and not await _insert_first(session, row):
        # Another first grade of this cell committed meanwhile: apply this change to it.
        return await set_grade(
            session, column, user_id, edit, actor_id=actor_id, reason=reason, expect=expect
        )
    if new == old:
        return False
    kind = "score" if new["score"] != old["score"] else "flags"
    log_change(
        session,
        course_id=column.course_id,
        column_id=column.id,
        student_id=user_id,
        kind=kind,
        old=old,
        new=new,
        actor_id=actor_id,
        reason=reason,
    )
    if column.post_policy == "automatic" and new["score"] not in (None, old["score"]):
        payload = GradesPosted(
            course_id=column.course_id,
            column_id=column.id,
            title=column.title,
            user_ids=[user_id],
            posted_by=None,
            posted_at=now,
        )
        await emit(session, GRADES_POSTED, payload, aggregate_id=column.id)
    return True


async def record_score(
    session: AsyncSession,
    *,
    column_id: uuid.UUID,
    user_id: uuid.UUID,
    score: Decimal | None,
    actor_id: uuid.UUID | None,
    reason: str,
    submitted_at: datetime | None = None,
    late: bool = False,
    missing: bool = False,
    late_deduction: Decimal | None = None,
) -> None:
    """Set a learner's score in a column (None clears it). Writes a grade-history row (old
    and new score and flags, actor, reason, time) when anything changed; never posts in a
    column whose policy is manual (release is the column's posting policy).
    ``late_deduction`` is what a late policy already took off ``score``, kept as given."""
    column = await session.get(GradeColumn, column_id)
    if column is None:
        raise NotFound("No such gradebook column.")
    edit = GradeEdit(
        score=score,
        late=late,
        missing=missing,
        late_deduction=late_deduction,
        submitted_at=submitted_at if submitted_at is not None else UNCHANGED,
    )
    await set_grade(session, column, user_id, edit, actor_id=actor_id, reason=reason)
