"""Grading attempts: automatically on submission (with the pure core), by a person (essays,
files, anything the core could not decide), again after a key change (regrade), and the
learner's kept score handed to the gradebook.

Answers are graded by the question's current definition (its key) and remember the version
they were graded by. A score a person gave stands through a regrade. An answer the core
leaves ``manual``, ``unchecked`` or ``pending`` counts as zero and is counted in the
attempt's ``pending`` until a grader scores it; Python code is pending until the sandbox
has run it (``code_grading``, a job queued on submission and on a key change).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.assessments import banks, scores
from lms.assessments.code_runs import enqueue_code_runs
from lms.assessments.events import (
    ATTEMPT_GRADED,
    ATTEMPT_REGRADED,
    ATTEMPT_SUBMITTED,
    AttemptRegraded,
    AttemptScored,
)
from lms.assessments.questions import TYPES, QuestionDefinition, grade, parse_definition
from lms.content import progress
from lms.errors import InvalidInput
from persistence.models import AttemptAnswer, Question, Quiz, QuizAttempt


def _grade(row: AttemptAnswer, definition: QuestionDefinition, version: int, now: datetime) -> None:
    """Grade one answer by the question's current definition (``version``, parsed); a
    person's score stands."""
    if row.graded_by is not None:
        return
    row.points = definition.points
    row.graded_version = version
    row.graded_at = now
    if row.response is None:
        row.score, row.status, row.result = 0.0, "graded", None
        return
    try:
        response = TYPES[definition.type].response.model_validate(row.response)
    except ValidationError:  # stored by an older server that accepted more: no credit
        row.score, row.status, row.result = 0.0, "graded", None
        return
    graded = grade(definition, response)
    row.score = graded.score
    row.status = graded.status
    row.result = graded.model_dump(mode="json")


async def answers_of(session: AsyncSession, attempt: QuizAttempt) -> list[AttemptAnswer]:
    """An attempt's answer rows (one per question it was given)."""
    rows = await session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
    )
    return list(rows.all())


def total(attempt: QuizAttempt, rows: Sequence[AttemptAnswer]) -> None:
    """Set the attempt's score, points and pending count from its answers."""
    attempt.score = round(sum(r.score or 0.0 for r in rows), 6)
    attempt.points = round(sum(r.points for r in rows), 6)
    attempt.pending = sum(1 for r in rows if r.status != "graded" and r.graded_by is None)


def _scored(attempt: QuizAttempt, now: datetime) -> AttemptScored:
    return AttemptScored(
        attempt_id=attempt.id,
        quiz_id=attempt.quiz_id,
        course_id=attempt.course_id,
        user_id=attempt.user_id,
        submitted_by=attempt.submitted_by or "learner",
        score=attempt.score or 0.0,
        points=attempt.points,
        pending=attempt.pending,
        at=now,
    )


Definitions = Callable[
    [AsyncSession, Sequence[tuple[uuid.UUID, int]]],
    Awaitable[Mapping[tuple[uuid.UUID, int], QuestionDefinition]],
]
"""Parsed definitions of (question, version) pairs: ``banks.versions`` reads them, a node's
``hotpath.Memory.definitions`` remembers them (a version never changes)."""

# Each answer of the attempt with its question's current version, in one read.
_GRADED = (
    select(AttemptAnswer, Question.version)
    .join(Question, Question.id == AttemptAnswer.question_id)
    .where(AttemptAnswer.attempt_id == bindparam("attempt", type_=AttemptAnswer.attempt_id.type))
)
_GRADE_FIELDS = ("points", "graded_version", "graded_at", "score", "status", "result")


async def finish(
    session: AsyncSession,
    attempt: QuizAttempt,
    *,
    by: str,
    now: datetime,
    quiz: Quiz | None = None,
    definitions: Definitions = banks.versions,
) -> list[AttemptAnswer] | None:
    """Submit an open attempt (``by`` the learner, or at its ``deadline``) and grade it; its
    answers are the last ones saved. The caller commits before confirming. Returns the
    graded answers (detached from the session, as written), for the view the learner is
    answered with; None when the attempt was not open. ``quiz``: the attempt's quiz when
    the caller read it already; ``definitions``: where parsed question versions come from.

    A submission is the deadline wave's unit of work, so it is written in few statements:
    the answers and their questions' current versions in one read, the definitions parsed
    once per node, the graded answers in one bulk update (no unit of work over 20 rows)."""
    if attempt.active_user_id is None:
        return None
    ended = now if by == "learner" or attempt.deadline is None else min(now, attempt.deadline)
    attempt.active_user_id = None
    attempt.submitted_at = ended
    attempt.submitted_by = by
    found = (await session.execute(_GRADED, {"attempt": attempt.id})).all()
    rows = [row for row, _ in found]
    current = {row.question_id: version for row, version in found}
    parsed = await definitions(session, list(current.items()))
    for row in rows:
        session.expunge(row)  # written below in bulk, never by the unit of work
        _grade(
            row, parsed[(row.question_id, current[row.question_id])], current[row.question_id], now
        )
    total(attempt, rows)
    changed = [
        {"id": row.id, **{name: getattr(row, name) for name in _GRADE_FIELDS}}
        for row in rows
        if row.graded_by is None
    ]
    if changed:
        await session.execute(update(AttemptAnswer), changed)
    kinds = {q: parsed[(q, v)].type for q, v in current.items()}
    await enqueue_code_runs(session, rows, kinds)  # code answers: graded by the sandbox
    await emit(session, ATTEMPT_SUBMITTED, _scored(attempt, now), aggregate_id=attempt.id)
    await progress.mark_submitted(session, "quiz", attempt.quiz_id, attempt.user_id, ended)
    # An open attempt is its learner's latest (no attempt starts while one is open): the
    # first one is the only one, so the kept score needs no read of the others.
    await scores.push(
        session,
        attempt.quiz_id,
        attempt.user_id,
        actor_id=None,
        reason="auto-graded",
        quiz=quiz,
        attempts=[attempt] if attempt.number == 1 else None,
    )
    return rows


async def grade_by_hand(
    session: AsyncSession,
    attempt: QuizAttempt,
    question_id: uuid.UUID,
    *,
    score: float,
    comment: str | None,
    by: uuid.UUID,
    now: datetime,
) -> None:
    """A grader's score for one answer of a submitted attempt."""
    if attempt.submitted_at is None:
        raise InvalidInput("The attempt is still open; grade it once it is submitted.")
    rows = await answers_of(session, attempt)
    row = next((r for r in rows if r.question_id == question_id), None)
    if row is None:
        raise InvalidInput("The attempt was not given this question.")
    if score > row.points:
        raise InvalidInput(f"This question is worth {row.points} points.", points=row.points)
    row.score = score
    row.status = "graded"
    row.graded_by = by
    row.grader_comment = comment
    row.graded_at = now
    total(attempt, rows)
    await session.flush()
    await emit(session, ATTEMPT_GRADED, _scored(attempt, now), aggregate_id=attempt.id)
    await scores.push(
        session, attempt.quiz_id, attempt.user_id, actor_id=by, reason="manual grading"
    )


async def regrade_question(
    session: AsyncSession, question: Question, *, by: uuid.UUID, now: datetime
) -> int:
    """Recompute every submitted attempt given ``question`` with its new key; each attempt
    whose score changed is recorded (an event, and the gradebook's history). Returns how
    many submitted attempts were recomputed."""
    query = (
        select(QuizAttempt)
        .join(AttemptAnswer, AttemptAnswer.attempt_id == QuizAttempt.id)
        .where(AttemptAnswer.question_id == question.id, QuizAttempt.submitted_at.is_not(None))
        .order_by(QuizAttempt.id)
    )
    attempts = list((await session.scalars(query)).all())
    touched: set[tuple[uuid.UUID, uuid.UUID]] = set()
    is_code = question.definition.get("type") == "python_code"
    definition = parse_definition(question.definition)
    for attempt in attempts:
        rows = await answers_of(session, attempt)
        old = attempt.score
        for row in rows:
            if row.question_id != question.id:
                continue
            if is_code and row.response is not None and row.graded_by is None:
                # The sandbox runs it again; its earlier score stands until then.
                kinds = {question.id: definition.type}
                await enqueue_code_runs(session, [row], kinds, regrade_by=by)
            else:
                _grade(row, definition, question.version, now)
        total(attempt, rows)
        if old != attempt.score:
            payload = AttemptRegraded(
                attempt_id=attempt.id,
                quiz_id=attempt.quiz_id,
                course_id=attempt.course_id,
                user_id=attempt.user_id,
                question_id=question.id,
                version=question.version,
                old_score=old,
                new_score=attempt.score or 0.0,
                by=by,
                at=now,
            )
            await emit(session, ATTEMPT_REGRADED, payload, aggregate_id=attempt.id)
            touched.add((attempt.quiz_id, attempt.user_id))
    await session.flush()
    for quiz_id, user_id in sorted(touched):
        await scores.push(session, quiz_id, user_id, actor_id=by, reason="regrade: key changed")
    return len(attempts)


async def record_code_grade(
    session: AsyncSession,
    answer_id: uuid.UUID,
    *,
    score: float,
    points: float,
    result: dict[str, Any],
    version: int,
    regrade_by: uuid.UUID | None,
    now: datetime,
) -> None:
    """The sandbox's grade for one code answer (``code_grading``): the answer, the attempt's
    total, an event (graded, or regraded when a key change asked for the run) and the
    gradebook. Nothing if a person graded the answer meanwhile, or the question's key
    changed since the run began (the change queued another run)."""
    row = await session.get(AttemptAnswer, answer_id)
    if row is None or row.graded_by is not None:
        return
    question = await session.get(Question, row.question_id)
    attempt = await session.get(QuizAttempt, row.attempt_id)
    if question is None or attempt is None or question.version != version:
        return
    rows = await answers_of(session, attempt)
    old = attempt.score
    row.score, row.status, row.result = score, "graded", result
    row.points, row.graded_version, row.graded_at = points, version, now
    total(attempt, rows)
    await session.flush()
    if regrade_by is None:
        await emit(session, ATTEMPT_GRADED, _scored(attempt, now), aggregate_id=attempt.id)
    elif old != attempt.score:
        payload = AttemptRegraded(
            attempt_id=attempt.id,
            quiz_id=attempt.quiz_id,
            course_id=attempt.course_id,
            user_id=attempt.user_id,
            question_id=question.id,
            version=version,
            old_score=old,
            new_score=attempt.score or 0.0,
            by=regrade_by,
            at=now,
        )
        await emit(session, ATTEMPT_REGRADED, payload, aggregate_id=attempt.id)
    reason = "code graded by the sandbox" if regrade_by is None else "regrade: key changed"
    await scores.push(session, attempt.quiz_id, attempt.user_id, actor_id=None, reason=reason)


async def quiz_of(session: AsyncSession, attempt: QuizAttempt) -> Quiz:
    """The attempt's quiz."""
    found = await session.get(Quiz, attempt.quiz_id)
    assert found is not None  # attempts cascade with their quiz
    return found
