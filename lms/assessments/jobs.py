"""The quizzes' periodic job: open attempts whose deadline passed are submitted with their
last saved answers, so the gradebook gets them without anyone visiting (reads close them
too, lazily)."""

from __future__ import annotations

from jobs.types import JobContext, JobType, Periodic
from lms.assessments.attempts import close_due
from persistence.models.base import utcnow

CLOSE_DUE_SCHEDULE = "@every 15s"


async def close_due_attempts(ctx: JobContext) -> None:
    """Submit every attempt past its deadline."""
    await close_due(ctx.sessions, utcnow())


CLOSE_DUE = Periodic(
    JobType(
        "assessments.close_due_attempts",
        close_due_attempts,
        max_attempts=3,
        timeout=300.0,
        summary="submit quiz attempts whose deadline passed",
    ),
    CLOSE_DUE_SCHEDULE,
)
