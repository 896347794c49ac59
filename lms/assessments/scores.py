"""A learner's kept quiz score, handed to the gradebook.

After every grading change (submission, a grader's score, a regrade) ``push`` computes the
score that counts (highest, latest or average of the submitted attempts, as the quiz says)
and records it in the quiz's gradebook column with the change's reason; the gradebook
writes the grade history. ``ensure`` keeps the column's title, points and due date in step
with the quiz when it is published or changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments.quizzes import kept_score, released
from lms.gradebook import service as gradebook
from persistence.models import Quiz, QuizAttempt
from persistence.models.base import utcnow


async def ensure(session: AsyncSession, quiz: Quiz, points: float) -> uuid.UUID:
    """The quiz's gradebook column, created or brought up to date."""
    return await gradebook.ensure_column(
        session,
        course_id=quiz.course_id,
        source="quiz",
        source_id=quiz.id,
        title=quiz.title,
        points_possible=gradebook.to_points(points, what="The quiz's points"),
        due_at=quiz.due_at,
        # Scores show in the gradebook when the quiz's results do (its release policy).
        post_policy="automatic" if released(quiz.results_release, quiz, utcnow()) else "manual",
    )


async def push(
    session: AsyncSession,
    quiz_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
    quiz: Quiz | None = None,
    attempts: Sequence[QuizAttempt] | None = None,
) -> float | None:
    """Record the learner's kept score in the quiz's column (``reason`` says why it
    changed: "auto-graded", "manual grading", "regrade: key changed"); returns it.
    ``quiz`` and ``attempts`` (all the learner's attempts at it): when the caller holds
    them already, they are not read again."""
    if quiz is None:
        quiz = await session.get(Quiz, quiz_id)
        if quiz is None:
            return None
    if attempts is None:
        attempts = list(
            (
                await session.scalars(
                    select(QuizAttempt).where(
                        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user_id
                    )
                )
            ).all()
        )
    score = kept_score(quiz.keep, attempts)
    done = [a for a in attempts if a.submitted_at is not None]
    if not done:
        return None
    latest = max(done, key=lambda a: a.number)
    column = await ensure(session, quiz, max(a.points for a in done))
    await gradebook.record_score(
        session,
        column_id=column,
        user_id=user_id,
        score=None if score is None else Decimal(str(round(score, 2))),
        actor_id=actor_id,
        reason=reason,
        submitted_at=latest.submitted_at,
        late=quiz.due_at is not None
        and latest.submitted_at is not None
        and latest.submitted_at > quiz.due_at,
    )
    return score
