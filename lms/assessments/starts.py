"""Starting an attempt in two phases, so the write lock is held only to write: ``plan_start``
reads (the quiz open, attempts left, the accommodation, the questions drawn) through a reader
session, ``create`` writes the attempt in a short writer transaction; one open attempt per
learner and quiz is the database's rule (a unique index), so two starts make one attempt."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import attempts, quizzes
from lms.assessments.errors import NoAttemptsLeft
from persistence.models import AttemptAnswer, Question, Quiz, QuizAttempt
from persistence.models.base import new_id


@dataclass(frozen=True)
class StartPlan:
    """What a new attempt will be, worked out by reads only (``plan_start``): its seed, the
    questions drawn, its deadline and points, and how many attempts the learner may make."""

    seed: str
    drawn: list[Question]
    deadline: datetime | None
    points: float
    allowed: int | None


async def plan_start(
    session: AsyncSession, quiz: Quiz, user_id: uuid.UUID, now: datetime, mine: list[QuizAttempt]
) -> StartPlan:
    """Check the learner may start a new attempt (the quiz open, an attempt left) and draw
    its questions: reads only, so a writer needs no lock for it (``create`` writes it)."""
    quizzes.check_open(quiz, now)
    extra = await quizzes.accommodation(session, quiz.id, user_id)
    allowed = quizzes.attempts_allowed(quiz, extra.extra_attempts if extra else 0)
    if allowed is not None and len(mine) >= allowed:
        raise NoAttemptsLeft(f"You have used all {allowed} attempts of this quiz.")
    seed = secrets.token_hex(16)
    drawn = await quizzes.draw_questions(session, quiz, seed)
    return StartPlan(
        seed=seed,
        drawn=drawn,
        deadline=quizzes.deadline(quiz, now, extra.extra_seconds if extra else 0),
        points=sum(float(q.definition.get("points", 1.0)) for q in drawn),
        allowed=allowed,
    )


async def create(
    session: AsyncSession, quiz: Quiz, user_id: uuid.UUID, plan: StartPlan, now: datetime
) -> tuple[QuizAttempt, bool]:
    """Write the attempt ``plan`` describes (True), or answer with the learner's open one if
    another start made it meanwhile; the attempts are read again here, in the writer's
    transaction, so the count of attempts holds. Two starts at once make one attempt: the
    loser finds the winner's (the database's unique open attempt per learner and quiz)."""
    mine = await attempts.of_learner(session, quiz.id, user_id)
    active = next((a for a in mine if a.active_user_id is not None), None)
    if active is not None:
        return active, False
    if plan.allowed is not None and len(mine) >= plan.allowed:
        raise NoAttemptsLeft(f"You have used all {plan.allowed} attempts of this quiz.")
    created = QuizAttempt(
        quiz_id=quiz.id,
        course_id=quiz.course_id,
        user_id=user_id,
        number=max((a.number for a in mine), default=0) + 1,
        active_user_id=user_id,
        seed=plan.seed,
        questions=[{"question_id": str(q.id), "version": q.version} for q in plan.drawn],
        started_at=now,
        deadline=plan.deadline,
        points=plan.points,
    )
    try:
        async with session.begin_nested():
            session.add(created)
            await session.flush()
            # One bulk insert of its empty answer rows, not a unit of work over each.
            empty = [
                {"id": new_id(), "attempt_id": created.id, "question_id": q.id, "points": 0.0}
                for q in plan.drawn
            ]
            if empty:
                await session.execute(insert(AttemptAnswer), empty)
    except IntegrityError:  # a concurrent start won: answer with its attempt
        winner = await session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.active_user_id == user_id
            )
        )
        if winner is None:
            raise
        return winner, False
    return created, True


async def start(
    session: AsyncSession, quiz: Quiz, user_id: uuid.UUID, now: datetime
) -> tuple[QuizAttempt, bool]:
    """The learner's open attempt, or a new one (True), in one session (``plan_start`` then
    ``create``); refused when the quiz is not open or no attempt is left."""
    mine = await attempts.of_learner(session, quiz.id, user_id)
    active = next((a for a in mine if a.active_user_id is not None), None)
    if active is not None:
        return active, False
    plan = await plan_start(session, quiz, user_id, now, mine)
    return await create(session, quiz, user_id, plan, now)
