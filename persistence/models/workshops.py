"""Workshops: scheduled live sessions (one-off or recurring), their materialised
occurrences in UTC, and who registered for a seat or waits for one (issue 20)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow


class Workshop(Base):
    """A workshop: its schedule in the organiser's IANA time zone and its seats.

    ``seats_taken`` counts registered and offered seats and ``arrivals`` numbers every
    registration attempt; both change only under the row's lock (one UPDATE first thing in
    the registering transaction), which is what keeps a seat race exact on both databases.
    """

    __tablename__ = "workshops"
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organiser_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    local_start: Mapped[str] = mapped_column(String(19))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    rrule: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    waitlist_capacity: Mapped[int] = mapped_column(Integer)
    cancel_cutoff_minutes: Mapped[int] = mapped_column(Integer, default=0)
    confirm_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    arrivals: Mapped[int] = mapped_column(Integer, default=0)
    first_start: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopOccurrence(Base):
    """One session of a workshop, in UTC (its recurrence expanded in the local zone), and
    when its reminders (24 h and 1 h before) last went out."""

    __tablename__ = "workshop_occurrences"
    __table_args__ = (UniqueConstraint("workshop_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workshop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    reminded_24h_at: Mapped[datetime | None]
    reminded_1h_at: Mapped[datetime | None]
    # The session's live room, opened at its start; attendance is written back when it
    # closes (its end, or the organiser ending the room first).
    room_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), default=None, index=True
    )
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkshopRegistration(Base):
    """A person's place in a workshop: ``registered``, ``offered`` (a freed seat held for
    them until ``offered_until``), ``waitlisted``, ``cancelled`` or ``expired``.

    ``arrival`` is the workshop's arrival number: the waitlist is served in its order.
    """

    __tablename__ = "workshop_registrations"
    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id"),
        UniqueConstraint("workshop_id", "arrival"),
        Index(None, "workshop_id", "status", "arrival"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workshop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    arrival: Mapped[int] = mapped_column(Integer)
    offered_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopAttendance(Base):
    """Whether a seat holder came to one session, and for how long (from the room's
    attendance, clipped to the session's time), written when the session closes."""

    __tablename__ = "workshop_attendance"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_occurrences.id", ondelete="CASCADE")
    )
    registration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workshop_registrations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    attended: Mapped[bool] = mapped_column(default=False)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
