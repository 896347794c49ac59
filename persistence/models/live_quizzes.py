"""Live quizzes run in a room: the questions with their keys, and each student's answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow


class LiveQuiz(Base):
    """A quiz a host launched in a room; ``questions`` are the students' views, ``keys``
    the author's definitions by question id (never sent to a student before the reveal)."""

    __tablename__ = "live_quizzes"
    __table_args__ = (Index(None, "room_id", "launched_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[float] = mapped_column(Float)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    keys: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="open")
    revealed: Mapped[bool] = mapped_column(default=False)
    graded_at: Mapped[datetime | None] = mapped_column(default=None)
    launched_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class LiveQuizAnswer(Base):
    """One student's answer to one question of a live quiz, graded when it arrived; one
    per question and student, enforced by the database."""

    __tablename__ = "live_quiz_answers"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "question_id"),
        Index(None, "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    quiz_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("live_quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(8))
    response: Mapped[dict[str, Any]] = mapped_column()
    picks: Mapped[list[str]] = mapped_column()
    credit: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(default=utcnow)
