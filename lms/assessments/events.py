"""The domain events of quizzes (jobs/events.py), for the gradebook, notifications,
webhooks and analytics: an attempt submitted (by its learner or at its deadline), an attempt
graded by a person, an attempt's score changed by a regrade, a quiz's results released."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class AttemptScored(BaseModel):
    """An attempt's state after it was submitted or graded."""

    attempt_id: uuid.UUID = Field(description="The attempt (GET /api/v1/attempts/{id}).")
    quiz_id: uuid.UUID = Field(description="Its quiz.")
    course_id: uuid.UUID = Field(description="The quiz's course.")
    user_id: uuid.UUID = Field(description="The learner.")
    submitted_by: str = Field(description="learner, or deadline (closed by the server).")
    score: float = Field(description="Points earned so far.")
    points: float = Field(description="Points possible in this attempt.")
    pending: int = Field(description="Answers still waiting for a grader or the sandbox.")
    at: datetime = Field(description="When (UTC).")


class AttemptRegraded(BaseModel):
    """An attempt's score changed because a question's answer key changed."""

    attempt_id: uuid.UUID = Field(description="The attempt.")
    quiz_id: uuid.UUID = Field(description="Its quiz.")
    course_id: uuid.UUID = Field(description="The quiz's course.")
    user_id: uuid.UUID = Field(description="The learner.")
    question_id: uuid.UUID = Field(description="The question whose key changed.")
    version: int = Field(description="The question's version the attempt is now graded by.")
    old_score: float | None = Field(description="The attempt's score before.")
    new_score: float = Field(description="The attempt's score now.")
    by: uuid.UUID | None = Field(description="Who changed the key.")
    at: datetime = Field(description="When (UTC).")


class QuizReleased(BaseModel):
    """An instructor released a quiz's results (release policy ``manual``)."""

    quiz_id: uuid.UUID = Field(description="The quiz.")
    course_id: uuid.UUID = Field(description="Its course.")
    released_by: uuid.UUID = Field(description="Who released them.")
    at: datetime = Field(description="When (UTC).")


ATTEMPT_SUBMITTED = EventType(
    "quiz.attempt_submitted",
    AttemptScored,
    aggregate="attempt",
    summary="A quiz attempt was submitted by its learner or closed at its deadline, and "
    "auto-graded.",
)
ATTEMPT_GRADED = EventType(
    "quiz.attempt_graded",
    AttemptScored,
    aggregate="attempt",
    summary="A grader scored an answer of a submitted quiz attempt.",
)
ATTEMPT_REGRADED = EventType(
    "quiz.attempt_regraded",
    AttemptRegraded,
    aggregate="attempt",
    summary="A submitted attempt's score changed because a question's answer key changed.",
)
QUIZ_RELEASED = EventType(
    "quiz.results_released",
    QuizReleased,
    aggregate="quiz",
    summary="An instructor released a quiz's results to its learners.",
)
EVENT_TYPES = (ATTEMPT_SUBMITTED, ATTEMPT_GRADED, ATTEMPT_REGRADED, QUIZ_RELEASED)
