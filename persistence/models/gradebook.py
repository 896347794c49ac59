"""The gradebook: a course's grading settings, assignment groups, columns (one per gradable
thing or added by hand), learners' scores with their flags, final-grade overrides and the
append-only history of every grade change.

Scores and points are ``Numeric(9, 2)``: two decimal places, up to 9,999,999.99. Percentages
(group weights, overrides, letter-scheme bounds) are ``Numeric(7, 4)``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
POINTS = Numeric(9, 2, asdecimal=True)
PERCENT = Numeric(7, 4, asdecimal=True)


class GradebookSettings(Base):
    """A course's grading settings (absent: the defaults, see lms/gradebook/service.py)."""

    __tablename__ = "gradebook_settings"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    weighted: Mapped[bool] = mapped_column(Boolean, default=False)
    missing_policy: Mapped[str] = mapped_column(String(20), default="zero")
    scheme: Mapped[list[Any] | None] = mapped_column(JSONType, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GradeGroup(Base):
    """An assignment group: a weight (when the course weights groups), drop rules and
    whether it is extra credit."""

    __tablename__ = "grade_groups"
    __table_args__ = (Index(None, "course_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal(0))
    drop_lowest: Mapped[int] = mapped_column(Integer, default=0)
    drop_highest: Mapped[int] = mapped_column(Integer, default=0)
    extra_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GradeColumn(Base):
    """One column of the grid: a quiz, an assignment, a live quiz or a manual column.

    ``post_policy`` ``automatic`` shows a learner's score once it is recorded; ``manual``
    hides it until the column's grades are posted (each score's ``posted_at``).
    """

    __tablename__ = "grade_columns"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index(None, "course_id", "position"),
        Index(None, "group_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("grade_groups.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    points_possible: Mapped[Decimal] = mapped_column(POINTS)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    post_policy: Mapped[str] = mapped_column(String(20), default="automatic")
    never_drop: Mapped[bool] = mapped_column(Boolean, default=False)
    extra_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    omit_from_final: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GradeScore(Base):
    """A learner's score in a column and its flags. ``score`` is None when ungraded;
    ``late_deduction`` is what the assignments domain took off (already out of ``score``)."""

    __tablename__ = "grade_scores"
    __table_args__ = (UniqueConstraint("column_id", "user_id"), Index(None, "user_id"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    column_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grade_columns.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score: Mapped[Decimal | None] = mapped_column(POINTS, default=None)
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_deduction: Mapped[Decimal | None] = mapped_column(POINTS, default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    graded_at: Mapped[datetime | None] = mapped_column(default=None)
    grader_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GradeOverride(Base):
    """An instructor's override of a learner's final grade, with the required reason."""

    __tablename__ = "grade_overrides"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    percent: Mapped[Decimal] = mapped_column(PERCENT)
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class GradeChange(Base):
    """One change to a grade (score, flags, override or posting): old and new value,
    who, why and when. Append-only; the grade-change history API reads it."""

    __tablename__ = "grade_changes"
    __table_args__ = (
        Index(None, "course_id", "id"),
        Index(None, "course_id", "student_id", "id"),
        Index(None, "column_id", "id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    column_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("grade_columns.id", ondelete="SET NULL"), default=None
    )
    student_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(20))
    old: Mapped[dict[str, Any]] = mapped_column(default=dict)
    new: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)
