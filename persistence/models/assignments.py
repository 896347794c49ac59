"""Assignments: their settings, per-student extensions, group sets, submissions (every
version kept), rubrics, grades and the graders' comments (issue 19)."""

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
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow


class Hundredths(TypeDecorator[Decimal]):
    """A Decimal with two places stored exactly as an integer count of hundredths (SQLite
    has no exact decimal type; PostgreSQL stores the same integers)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class GroupSet(Base):
    """A course's division of its students into groups (for group assignments)."""

    __tablename__ = "group_sets"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudentGroup(Base):
    """One group of a group set."""

    __tablename__ = "student_groups"
    __table_args__ = (Index(None, "group_set_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    group_set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class GroupMember(Base):
    """A student in a group; a student is in at most one group of a set."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_set_id", "user_id"), Index(None, "group_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    group_set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sets.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("student_groups.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Rubric(Base):
    """Criteria with levels and points, reusable by the assignments of a course.

    ``criteria``: ``[{"id", "description", "long_description", "levels": [{"id", "title",
    "points", "description"}]}]`` in the order shown, points as strings of Decimals (exact
    in JSON); rows written before the descriptions existed lack them (read as "")."""

    __tablename__ = "rubrics"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    criteria: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    points: Mapped[Decimal] = mapped_column(Hundredths())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Assignment(Base):
    """Something students hand in by a due date: its instructions are a course page (a
    live Yjs document published like any page), its submissions text and/or files."""

    __tablename__ = "assignments"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    page_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pages.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(Hundredths())
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    available_from: Mapped[datetime | None] = mapped_column(default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    lock_at: Mapped[datetime | None] = mapped_column(default=None)
    # "text" and/or "file"
    submission_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Lower-case extensions without the dot; empty: any.
    allowed_extensions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_file_bytes: Mapped[int] = mapped_column(BigInteger)
    max_text_chars: Mapped[int] = mapped_column(Integer)
    late_per_day: Mapped[Decimal] = mapped_column(Hundredths(), default=Decimal(0))
    late_cap: Mapped[Decimal] = mapped_column(Hundredths(), default=Decimal(100))
    late_floor: Mapped[Decimal] = mapped_column(Hundredths(), default=Decimal(0))
    group_set_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("group_sets.id", ondelete="SET NULL"), default=None
    )
    rubric_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rubrics.id", ondelete="SET NULL"), default=None
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    names_revealed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Extension(Base):
    """A new due and lock date for one student of one assignment."""

    __tablename__ = "assignment_extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    lock_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One version handed in: by a student, or by a group (``owner_id`` is the group's id
    then, ``user_id`` the member who submitted). Versions are never overwritten."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "owner_id", "version"),
        UniqueConstraint("assignment_id", "owner_id", "idempotency_key"),
        Index(None, "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID]
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("student_groups.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    version: Mapped[int] = mapped_column(Integer)
    body_markdown: Mapped[str | None] = mapped_column(Text, default=None)
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    file_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Grade(Base):
    """A student's grade on an assignment: the rubric levels chosen, the raw score, the
    late deduction computed once at grading, and the score that goes to the gradebook."""

    __tablename__ = "assignment_grades"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), default=None
    )
    # criterion id -> level id
    rubric: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    raw_score: Mapped[Decimal | None] = mapped_column(Hundredths(), default=None)
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    late_deduction: Mapped[Decimal] = mapped_column(Hundredths(), default=Decimal(0))
    score: Mapped[Decimal | None] = mapped_column(Hundredths(), default=None)
    # Set when a member of a group was graded apart from the group's grade.
    individual: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    graded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionComment(Base):
    """A grader's comment on a submission: anchored to a character range of a text
    submission's source (``start``/``end``), or general."""

    __tablename__ = "submission_comments"
    __table_args__ = (Index(None, "submission_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    start: Mapped[int | None] = mapped_column(Integer, default=None)
    end: Mapped[int | None] = mapped_column(Integer, default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
