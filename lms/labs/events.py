"""The labs' domain events (jobs/events.py): a learner passed a checkpoint on the server."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class StepCompleted(BaseModel):
    """A learner's workspace passed a lab step's hidden tests in the sandbox."""

    lab_id: uuid.UUID = Field(description="The lab (GET /api/v1/labs/{id}).")
    course_id: uuid.UUID = Field(description="Its course.")
    user_id: uuid.UUID = Field(description="The learner.")
    step_id: str = Field(description="The step's id.")
    points: int = Field(description="The step's points.")
    lab_completed: bool = Field(description="Whether every step of the lab is now completed.")
    at: datetime = Field(description="When (UTC).")


STEP_COMPLETED = EventType(
    "labs.step_completed",
    StepCompleted,
    aggregate="learner",
    summary="A learner passed a lab checkpoint (the server's check, which counts).",
)
EVENT_TYPES = (STEP_COMPLETED,)
