"""A learner's kept quiz score, ready for the gradebook.

``push`` computes the score that counts (highest, latest or average of the submitted
attempts, as the quiz says) after every grading change. Until the gradebook's
``record_score`` lands (issue 19, lms/gradebook/), the score lives on the attempts and
``push`` returns it without recording it elsewhere.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments.quizzes import kept_score
from persistence.models import Quiz, QuizAttempt


async def kept(session: AsyncSession, quiz: Quiz, user_id: uuid.UUID) -> float | None:
    """The learner's score that counts on ``quiz`` (None before a submitted attempt)."""
    attempts = await session.scalars(
        select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user_id)
    )
    return kept_score(quiz.keep, list(attempts.all()))


async def push(
    session: AsyncSession,
    quiz_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
) -> float | None:
    """The learner's kept score after a grading change (``reason`` says which)."""
    quiz = await session.get(Quiz, quiz_id)
    if quiz is None:
        return None
    return await kept(session, quiz, user_id)
