"""The gradebook's domain events (jobs/events.py): grades released to learners. The
notifications domain tells each learner (category ``grades``); webhooks carry them out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class GradesPosted(BaseModel):
    """Learners' grades in a column became visible to them."""

    course_id: uuid.UUID = Field(description="The course.")
    column_id: uuid.UUID = Field(description="The gradebook column.")
    title: str = Field(description="The column's title.")
    user_ids: list[uuid.UUID] = Field(description="The learners whose grades were released.")
    posted_by: uuid.UUID | None = Field(description="Who posted them (none: automatic).")
    posted_at: datetime = Field(description="When (UTC).")


GRADES_POSTED = EventType(
    "gradebook.grades_posted",
    GradesPosted,
    aggregate="grade_column",
    summary="Grades in a gradebook column were released to learners (posted, or graded "
    "in a column that posts automatically).",
)
EVENT_TYPES = (GRADES_POSTED,)
