"""The workshops domain's events (jobs/events.py): a session's attendance was recorded."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class SessionAttendee(BaseModel):
    """One seat holder's attendance at a session."""

    user_id: uuid.UUID = Field(description="The learner.")
    registration_id: uuid.UUID = Field(description="Their registration.")
    attended: bool = Field(description="Whether they were in the session's room.")
    minutes: int = Field(description="Minutes in the room during the session (rounded down).")


class AttendanceRecorded(BaseModel):
    """A workshop session closed: each seat holder's attendance was written back."""

    workshop_id: uuid.UUID = Field(description="The workshop (GET /api/v1/workshops/{id}).")
    session: int = Field(description="The session's number, from 1.")
    room_id: uuid.UUID | None = Field(description="The session's live room.")
    starts_at: datetime = Field(description="When the session started (UTC).")
    ends_at: datetime = Field(description="When it was scheduled to end (UTC).")
    closed_at: datetime = Field(description="When attendance was recorded (UTC).")
    attendees: list[SessionAttendee] = Field(description="Every seat holder, in arrival order.")


ATTENDANCE_RECORDED = EventType(
    "workshops.attendance_recorded",
    AttendanceRecorded,
    aggregate="workshop",
    summary="A workshop session closed; each seat holder's attendance (attended or absent, "
    "minutes) was recorded from its room.",
)

EVENT_TYPES = (ATTENDANCE_RECORDED,)
