"""Cohorts: groups of learners taking a course together, with their pacing, facilitators,
members, transfers between cohorts, invitations, announcements and live sessions (issue 20).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow


class Cohort(Base):
    """A cohort of one course: its dates in ``time_zone`` (IANA), an optional capacity and
    the self-enrolment code (unique while set; None: self-enrolment off)."""

    __tablename__ = "cohorts"
    __table_args__ = (Index(None, "course_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    join_code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortPacing(Base):
    """A module of the course released to the cohort ``offset_days`` after its start."""

    __tablename__ = "cohort_pacing"

    cohort_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    module_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("course_modules.id", ondelete="CASCADE"), primary_key=True
    )
    offset_days: Mapped[int] = mapped_column(Integer)


class CohortFacilitator(Base):
    """Someone who runs the cohort (course staff or a named user)."""

    __tablename__ = "cohort_facilitators"

    cohort_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortMember(Base):
    """A learner in a cohort; at most one cohort per course (the unique constraint)."""

    __tablename__ = "cohort_members"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id"),
        Index(None, "cohort_id", "id"),
        Index(None, "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortTransfer(Base):
    """A learner moved between two cohorts of one course: who, when, from, to and why."""

    __tablename__ = "cohort_transfers"
    __table_args__ = (Index(None, "from_cohort_id", "id"), Index(None, "to_cohort_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    from_cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    to_cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortInvitation(Base):
    """An invitation e-mailed to an address; only a hash of its token is kept."""

    __tablename__ = "cohort_invitations"
    __table_args__ = (Index(None, "cohort_id", "created_at"), Index(None, "email"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)


class CohortAnnouncement(Base):
    """A facilitator's announcement to the cohort."""

    __tablename__ = "cohort_announcements"
    __table_args__ = (Index(None, "cohort_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortSession(Base):
    """A live session of the cohort: a room only its members and facilitators enter."""

    __tablename__ = "cohort_sessions"
    __table_args__ = (Index(None, "cohort_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class CohortCodeAttempt(Base):
    """A wrong join code someone tried (guessing is rate-limited on these rows)."""

    __tablename__ = "cohort_code_attempts"
    __table_args__ = (Index(None, "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
