"""The domain events the classroom emits for the rest of the platform (jobs/events.py).

Room protocol events (rooms/events.py) stay inside a room's channel; these are the few that
matter outside it, written to the outbox in the transaction of the change.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class RecordingStopped(BaseModel):
    """A room recording ended: its host stopped it, or the room ended."""

    recording_id: uuid.UUID = Field(description="The recording (GET .../recordings/{id}).")
    room_id: uuid.UUID = Field(description="The room it recorded.")
    started_by: uuid.UUID | None = Field(description="Who started it (null: account erased).")
    stopped_by: uuid.UUID | None = Field(description="Who stopped it (null: the room ended).")
    started_at: datetime = Field(description="When it started (UTC).")
    stopped_at: datetime = Field(description="When it stopped (UTC).")


RECORDING_STOPPED = EventType(
    "recording.stopped",
    RecordingStopped,
    aggregate="room",
    summary="A room recording stopped; each node closes its track files within seconds.",
)


def recording_stopped(
    *,
    recording_id: uuid.UUID,
    room_id: uuid.UUID,
    started_by: uuid.UUID | None,
    stopped_by: uuid.UUID | None,
    started_at: datetime,
    stopped_at: datetime,
) -> RecordingStopped:
    """The payload of ``recording.stopped``."""
    return RecordingStopped(
        recording_id=recording_id,
        room_id=room_id,
        started_by=started_by,
        stopped_by=stopped_by,
        started_at=started_at,
        stopped_at=stopped_at,
    )


class RoomEnded(BaseModel):
    """A class ended: a host ended it for everyone (breakout rooms closing are not this)."""

    room_id: uuid.UUID = Field(description="The room (GET /api/v1/rooms/{id}).")
    title: str = Field(description="The room's title.")
    course_id: uuid.UUID | None = Field(description="Its course, if it belongs to one.")
    created_by: uuid.UUID = Field(description="Who created the room.")
    started_at: datetime = Field(description="When the room was created (UTC).")
    ended_at: datetime = Field(description="When it ended (UTC).")
    attendees: int = Field(
        description="People who were in the room (GET .../attendance lists each stay)."
    )


ROOM_ENDED = EventType(
    "room.ended",
    RoomEnded,
    aggregate="room",
    summary="A class ended for everyone; its attendance is final.",
)


class LiveQuizScore(BaseModel):
    """One student's score in a live quiz."""

    user_id: uuid.UUID = Field(description="The student.")
    score: float = Field(description="Points: the quiz's points times the mean credit.")
    answered: int = Field(description="Questions the student answered.")


class LiveQuizGraded(BaseModel):
    """A host sent a live quiz's scores to the course's gradebook."""

    quiz_id: uuid.UUID = Field(description="The quiz.")
    room_id: uuid.UUID = Field(description="The room it ran in.")
    course_id: uuid.UUID = Field(description="The room's course.")
    title: str = Field(description="The quiz's title.")
    points: float = Field(description="Points possible.")
    graded_by: uuid.UUID | None = Field(description="The host who sent the scores.")
    graded_at: datetime = Field(description="When (UTC).")
    scores: list[LiveQuizScore] = Field(description="Every student who answered.")


LIVE_QUIZ_GRADED = EventType(
    "live_quiz.graded",
    LiveQuizGraded,
    aggregate="room",
    summary="A live quiz's scores were sent to its course's gradebook.",
)
