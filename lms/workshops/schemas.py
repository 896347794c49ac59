"""Workshops REST: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WorkshopCreate(BaseModel):
    """A new workshop: its local start in ``time_zone`` and an optional RRULE."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    time_zone: str = Field(min_length=1, max_length=64, description="IANA zone of the start.")
    start: datetime = Field(description="Local start of the first session, no offset.")
    duration_minutes: int = Field(ge=5, le=24 * 60)
    rrule: str | None = Field(
        default=None, max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;COUNT=6."
    )
    capacity: int = Field(ge=1, le=10_000)
    waitlist_capacity: int = Field(default=1000, ge=0, le=10_000)
    cancel_cutoff_minutes: int = Field(
        default=0,
        ge=0,
        le=30 * 24 * 60,
        description="Seats may be given back until this long before the first session.",
    )
    confirm_minutes: int = Field(
        default=24 * 60,
        ge=1,
        le=14 * 24 * 60,
        description="How long a promoted learner has to confirm a freed seat.",
    )

    @field_validator("start")
    @classmethod
    def _local(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("give the local time without an offset; time_zone says where")
        return value.replace(microsecond=0)


class OccurrenceOut(BaseModel):
    """One session, in UTC."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    starts_at: datetime
    ends_at: datetime
    opened_at: datetime | None = Field(
        default=None, description="When its room opened (it is live until closed_at)."
    )
    closed_at: datetime | None = Field(
        default=None, description="When it closed and its attendance was recorded."
    )


class RegistrationOut(BaseModel):
    """A place in a workshop; ``waitlist_position`` counts from 1 while waitlisted."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workshop_id: uuid.UUID
    user_id: uuid.UUID
    status: str = Field(description="registered, offered, waitlisted, cancelled or expired")
    arrival: int
    offered_until: datetime | None
    created_at: datetime
    waitlist_position: int | None = None
    name: str | None = Field(default=None, description="The learner's name (organisers).")


class WorkshopOut(BaseModel):
    """A workshop with its sessions, its seats and the caller's own registration."""

    id: uuid.UUID
    organiser_id: uuid.UUID | None
    title: str
    description: str
    time_zone: str
    start: str = Field(description="Local start of the first session in time_zone.")
    duration_minutes: int
    rrule: str | None
    capacity: int
    waitlist_capacity: int
    seats_left: int
    waitlist_length: int
    cancel_cutoff_minutes: int
    confirm_minutes: int
    status: str
    first_start: datetime
    occurrences: list[OccurrenceOut]
    my_registration: RegistrationOut | None


class WorkshopPage(BaseModel):
    """Workshops; ``next`` is the cursor of the following page."""

    items: list[WorkshopOut]
    next: str | None


class RegistrationPage(BaseModel):
    """Registrations in arrival order; ``next`` is the cursor of the following page."""

    items: list[RegistrationOut]
    next: str | None


class WorkshopUpdate(BaseModel):
    """Changes to a workshop's description and seats (its schedule stays); a null or a
    missing field keeps the value. More seats are offered to the waitlist at once."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    waitlist_capacity: int | None = Field(default=None, ge=0, le=10_000)
    cancel_cutoff_minutes: int | None = Field(default=None, ge=0, le=30 * 24 * 60)
    confirm_minutes: int | None = Field(default=None, ge=1, le=14 * 24 * 60)


class SessionJoinOut(BaseModel):
    """The session's live room, which the caller may now join (POST /api/v1/rooms/{id}/join)."""

    room_id: uuid.UUID
    session: int
    starts_at: datetime
    ends_at: datetime
    host: bool = Field(description="True for the organiser (and admins).")


class AttendanceRow(BaseModel):
    """One seat holder at one session."""

    registration_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    attended: bool
    minutes: int
    seconds: int


class SessionAttendance(BaseModel):
    """A session's attendance: recorded when it closed (``final``), else counted so far."""

    session: int
    starts_at: datetime
    ends_at: datetime
    room_id: uuid.UUID | None
    final: bool
    items: list[AttendanceRow]
    next: str | None


class MySession(BaseModel):
    """One upcoming session of a workshop I hold a place in or organise."""

    workshop_id: uuid.UUID
    title: str
    time_zone: str
    session: int
    starts_at: datetime
    ends_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    status: str = Field(description="registered, offered, waitlisted or organiser")


class MySessionPage(BaseModel):
    """My sessions by start; ``next`` is the cursor of the following page."""

    items: list[MySession]
    next: str | None
