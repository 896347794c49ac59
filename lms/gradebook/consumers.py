"""What the gradebook does with the other assessment domains' events: grades they post
themselves are released in their gradebook column too, so a learner's grades page never
shows a grade the assignment or quiz still hides, nor hides one it shows.

The node subscribes these consumers at start-up (``consumers()``); each runs in the
transaction that records the event as consumed, and posting only touches hidden cells, so a
redelivered event releases nothing twice.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Consumer, Event
from lms.assessments.events import QUIZ_RELEASED, QuizReleased
from lms.assignments.events import GRADES_POSTED, GradesPosted
from lms.gradebook import service


async def assignment_posted(session: AsyncSession, event: Event) -> None:
    """An assignment's grades were posted: post its column's cells of those learners."""
    payload = event.payload
    assert isinstance(payload, GradesPosted)
    column = await service.column_for(session, source="assignment", source_id=payload.assignment_id)
    if column is not None:
        await service.post_grades(
            session, column_id=column, user_ids=payload.user_ids, reason="assignment posted"
        )


async def quiz_released(session: AsyncSession, event: Event) -> None:
    """A quiz's results were released: post its column."""
    payload = event.payload
    assert isinstance(payload, QuizReleased)
    column = await service.column_for(session, source="quiz", source_id=payload.quiz_id)
    if column is not None:
        await service.post_grades(
            session, column_id=column, actor_id=payload.released_by, reason="quiz released"
        )


ASSIGNMENT_POSTED = Consumer(
    "gradebook.assignment_posted", (GRADES_POSTED.name,), assignment_posted
)
QUIZ_RELEASED_POSTS = Consumer("gradebook.quiz_released", (QUIZ_RELEASED.name,), quiz_released)


def consumers() -> list[Consumer]:
    """The gradebook's consumers, for the node's catalogue."""
    return [ASSIGNMENT_POSTED, QUIZ_RELEASED_POSTS]
