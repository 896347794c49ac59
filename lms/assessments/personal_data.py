"""The quizzes' part of personal-data export and erasure: a learner's attempts with their
answers and grades (erased with the account, as the attempts cascade with it); questions
and quizzes an author wrote stay with the course, unattributed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import AttemptAnswer, Quiz, QuizAttempt, User


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


async def export_attempts(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """The user's quiz attempts, each with its answers as stored (the author's ids)."""
    rows = await session.execute(
        select(QuizAttempt, Quiz)
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(QuizAttempt.user_id == user.id)
        .order_by(QuizAttempt.started_at)
    )
    exported = []
    for attempt, quiz in rows.all():
        answers = await session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
        )
        exported.append(
            {
                "quiz_id": str(quiz.id),
                "quiz": quiz.title,
                "attempt": attempt.number,
                "started_at": _time(attempt.started_at),
                "submitted_at": _time(attempt.submitted_at),
                "score": attempt.score,
                "points": attempt.points,
                "answers": [
                    {
                        "question_id": str(a.question_id),
                        "response": a.response,
                        "score": a.score,
                        "comment": a.grader_comment,
                    }
                    for a in answers.all()
                ],
            }
        )
    return exported


async def erase_attempts(session: AsyncSession, user: User) -> None:
    """Delete the user's attempts (their answers go with them)."""
    await session.execute(delete(QuizAttempt).where(QuizAttempt.user_id == user.id))


def register(registry: PersonalData) -> None:
    """Add the quizzes section to the app's personal-data registry."""
    registry.contributes("quizzes", export=export_attempts, erase=erase_attempts)
