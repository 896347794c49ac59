"""Question banks, quizzes and attempts (issue 19).

A question keeps every version of its definition (a key change adds one); an attempt names
the versions it was given, its seed (which fixes the draw from pools and every shuffle) and
holds one answer row per question. ``quiz_attempts.active_user_id`` is the learner's id
while the attempt is open and NULL once it is submitted: the unique (quiz, active user)
pair is the database's guarantee of one open attempt per learner and quiz (NULLs never
clash, on SQLite as on PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow


class QuestionBank(Base):
    """A course's collection of questions, drawn from by quizzes (a pool)."""

    __tablename__ = "question_banks"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(Base):
    """A question of a bank: its current definition (``version``) and tags; archived ones
    are drawn no more but stay for the attempts that were given them."""

    __tablename__ = "questions"
    __table_args__ = (Index(None, "bank_id", "archived"), Index(None, "course_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    bank_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuestionVersion(Base):
    """One version of a question's definition, as attempts given it show it."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    question_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quiz(Base):
    """A quiz of a course: its slots (fixed questions or draws from banks) and settings."""

    __tablename__ = "quizzes"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"question_id": id} | {"bank_id": id, "count": n, "tags": [...]}], in order.
    slots: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    max_attempts: Mapped[int | None] = mapped_column(Integer, default=1)
    keep: Mapped[str] = mapped_column(String(10), default="highest")
    available_from: Mapped[datetime | None] = mapped_column(default=None)
    available_until: Mapped[datetime | None] = mapped_column(default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    # immediately | after_due | manual | never
    results_release: Mapped[str] = mapped_column(String(12), default="immediately")
    answers_release: Mapped[str] = mapped_column(String(12), default="manual")
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuizAccommodation(Base):
    """A learner's extra time and extra attempts on one quiz."""

    __tablename__ = "quiz_accommodations"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    quiz_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    extra_seconds: Mapped[int] = mapped_column(Integer, default=0)
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuizAttempt(Base):
    """One learner's attempt at a quiz (see the module docstring for the open-attempt rule)."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        UniqueConstraint("quiz_id", "active_user_id"),
        Index(None, "deadline"),
        Index(None, "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    quiz_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    active_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    seed: Mapped[str] = mapped_column(String(64))
    # [{"question_id": id, "version": n}] in the order the learner sees them.
    questions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_by: Mapped[str | None] = mapped_column(String(10), default=None)  # learner|deadline
    score: Mapped[float | None] = mapped_column(Float, default=None)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AttemptAnswer(Base):
    """A learner's answer to one question of an attempt (in the author's ids), the save
    sequence number that wrote it, and its grade."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"), Index(None, "question_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    attempt_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE")
    )
    question_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    saved_at: Mapped[datetime | None] = mapped_column(default=None)
    # graded | manual | unchecked | pending (results.Status), None before submission.
    status: Mapped[str | None] = mapped_column(String(10), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    graded_version: Mapped[int | None] = mapped_column(Integer, default=None)
    graded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    grader_comment: Mapped[str | None] = mapped_column(Text, default=None)
    graded_at: Mapped[datetime | None] = mapped_column(default=None)
