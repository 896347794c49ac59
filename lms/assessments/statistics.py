"""A quiz's statistics over its submitted attempts: the score distribution (attempts per
10% band), each question's difficulty (the mean share of its points earned, the classical
p-value) and discrimination (the point-biserial correlation of the question's credit with
the rest of the attempt's score, so an item does not correlate with itself), and the
average time taken. Pure functions over rows, plus the query that feeds them."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments.schemas import ItemStatistics, QuizStatistics
from persistence.models import AttemptAnswer, Question, Quiz, QuizAttempt

BANDS = 10


@dataclass(frozen=True)
class Scored:
    """One submitted attempt: its score, points, seconds taken, and per-question
    (score, points)."""

    score: float
    points: float
    seconds: float
    items: dict[uuid.UUID, tuple[float, float]]


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r (point-biserial when ``xs`` is 0/1); None when either does not vary."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return round(sxy / math.sqrt(sxx * syy), 4)


def band(percent: float) -> int:
    """The 10% band of a score percentage (100% falls in the last)."""
    return min(BANDS - 1, max(0, int(percent // (100 / BANDS))))


def summarise(attempts: Sequence[Scored], titles: dict[uuid.UUID, str]) -> QuizStatistics:
    """The statistics of ``attempts`` (see the module docstring)."""
    distribution = [0] * BANDS
    percents = []
    for one in attempts:
        percent = 100 * one.score / one.points if one.points else 0.0
        percents.append(percent)
        distribution[band(percent)] += 1
    items = []
    for question_id, title in titles.items():
        credits, rests = [], []
        for one in attempts:
            if question_id not in one.items:
                continue
            score, points = one.items[question_id]
            credits.append(score / points if points else 0.0)
            rests.append(one.score - score)
        items.append(
            ItemStatistics(
                question_id=question_id,
                title=title,
                answered=len(credits),
                difficulty=round(sum(credits) / len(credits), 4) if credits else None,
                discrimination=correlation(credits, rests),
            )
        )
    n = len(attempts)
    return QuizStatistics(
        attempts=n,
        mean_percent=round(sum(percents) / n, 2) if n else None,
        distribution=distribution,
        average_seconds=round(sum(a.seconds for a in attempts) / n, 1) if n else None,
        items=items,
    )


async def of_quiz(session: AsyncSession, quiz: Quiz) -> QuizStatistics:
    """The statistics of ``quiz``'s submitted attempts."""
    attempts = list(
        (
            await session.scalars(
                select(QuizAttempt).where(
                    QuizAttempt.quiz_id == quiz.id, QuizAttempt.submitted_at.is_not(None)
                )
            )
        ).all()
    )
    answers = await session.execute(
        select(
            AttemptAnswer.attempt_id,
            AttemptAnswer.question_id,
            AttemptAnswer.score,
            AttemptAnswer.points,
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.submitted_at.is_not(None))
    )
    per_attempt: dict[uuid.UUID, dict[uuid.UUID, tuple[float, float]]] = {}
    for attempt_id, question_id, score, points in answers.all():
        per_attempt.setdefault(attempt_id, {})[question_id] = (score or 0.0, points)
    question_ids = {q for items in per_attempt.values() for q in items}
    titles: dict[uuid.UUID, str] = {}
    if question_ids:
        rows = await session.execute(
            select(Question.id, Question.title).where(Question.id.in_(question_ids))
        )
        titles = dict(sorted(rows.all(), key=lambda row: row[1]))
    scored = [
        Scored(
            score=a.score or 0.0,
            points=a.points,
            seconds=((a.submitted_at or a.started_at) - a.started_at).total_seconds(),
            items=per_attempt.get(a.id, {}),
        )
        for a in attempts
    ]
    return summarise(scored, titles)
