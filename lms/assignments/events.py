"""The assignments domain's events (jobs/events.py): a version handed in, a learner
graded, an assignment's grades posted. Payloads carry no names (anonymous grading)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from jobs.events import EventType


class Submitted(BaseModel):
    """A student or group handed in a version of an assignment."""

    submission_id: uuid.UUID = Field(description="The version handed in.")
    assignment_id: uuid.UUID = Field(description="Its assignment.")
    course_id: uuid.UUID = Field(description="Its course.")
    version: int = Field(description="1 for the first version, then 2, 3...")
    submitted_at: datetime = Field(description="When (UTC).")


class Graded(BaseModel):
    """A learner's grade on an assignment was set or changed."""

    assignment_id: uuid.UUID = Field(description="The assignment.")
    course_id: uuid.UUID = Field(description="Its course.")
    user_id: uuid.UUID = Field(description="The learner graded.")
    score: Decimal | None = Field(description="The score after the late deduction.")
    graded_at: datetime = Field(description="When (UTC).")


class GradesPosted(BaseModel):
    """An assignment's grades became visible to its students."""

    assignment_id: uuid.UUID = Field(description="The assignment.")
    course_id: uuid.UUID = Field(description="Its course.")
    user_ids: list[uuid.UUID] = Field(description="The learners whose grades were posted.")
    posted_at: datetime = Field(description="When (UTC).")


SUBMITTED = EventType(
    "assignments.submitted",
    Submitted,
    aggregate="assignment",
    summary="A student (or a group) handed in a version of an assignment.",
)
GRADED = EventType(
    "assignments.graded",
    Graded,
    aggregate="assignment",
    summary="A learner's grade on an assignment was set or changed.",
)
GRADES_POSTED = EventType(
    "assignments.grades_posted",
    GradesPosted,
    aggregate="assignment",
    summary="An assignment's grades were posted: its students now see them.",
)
EVENT_TYPES = (SUBMITTED, GRADED, GRADES_POSTED)
