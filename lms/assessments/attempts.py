"""Attempts: starting one (one open attempt per learner and quiz, enforced by the database),
what its learner sees, autosaving answers, submitting, and closing attempts whose deadline
passed (lazily when the attempt is next touched, and by the ``assessments.close_due`` job).

A learner sees only the key-free student views of the versions the attempt was given,
shuffled by the attempt's seed, and names choices by the view's tokens; answers are stored
in the author's ids. Each save carries the browser's sequence number: an answer is written
only by a save newer than the one that wrote it, so a repeated or late request never
overwrites a newer answer. The deadline is the server's: a save after it is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.assessments import banks, grading, student_views, uploads
from lms.assessments.errors import (
    AttemptClosed,
    InvalidResponse,
    QuestionNotInAttempt,
)
from lms.assessments.questions import as_shown, receive
from lms.assessments.questions.registry import question_type
from lms.assessments.questions.shuffle import question_seed
from lms.assessments.schemas import (
    AttemptOut,
    AttemptQuestion,
    AttemptSummary,
    QuestionResult,
    SaveOut,
)
from lms.errors import NotFound
from persistence.models import AttemptAnswer, Question, Quiz, QuizAttempt

CLOSE_BATCH = 100


async def attempt(session: AsyncSession, attempt_id: uuid.UUID) -> QuizAttempt:
    """An attempt by id, or 404."""
    found = await session.get(QuizAttempt, attempt_id)
    if found is None:
        raise NotFound("No such attempt.")
    return found


async def locked(session: AsyncSession, attempt_id: uuid.UUID) -> QuizAttempt:
    """An attempt by id, its row locked for this transaction (PostgreSQL; SQLite writers
    hold the database's write lock already), its attributes as read under the lock even if
    the session had it loaded (``populate_existing``)."""
    query = (
        select(QuizAttempt)
        .where(QuizAttempt.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = (await session.scalars(query)).one_or_none()
    if found is None:
        raise NotFound("No such attempt.")
    return found


async def of_learner(
    session: AsyncSession, quiz_id: uuid.UUID, user_id: uuid.UUID
) -> list[QuizAttempt]:
    """A learner's attempts at a quiz, oldest first."""
    rows = await session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user_id)
        .order_by(QuizAttempt.number)
    )
    return list(rows.all())


def is_due(target: QuizAttempt, now: datetime) -> bool:
    """Whether an open attempt's deadline has passed."""
    return (
        target.active_user_id is not None and target.deadline is not None and now >= target.deadline
    )


async def close_if_due(
    sessions: async_sessionmaker[AsyncSession], target: QuizAttempt, now: datetime
) -> bool:
    """Submit ``target`` with its last saved answers if its deadline passed (in a writer
    session of its own, committed); True when this call closed it."""
    if not is_due(target, now):
        return False
    async with sessions() as writer:
        row = await locked(writer, target.id)
        if not is_due(row, now):
            return False
        await grading.finish(writer, row, by="deadline", now=now)
        await writer.commit()
    return True


async def close_due(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Submit every open attempt whose deadline passed (the periodic job), a batch at a
    time, one transaction each; returns how many were closed."""
    closed = 0
    while True:
        async with sessions() as reader:
            due = list(
                (
                    await reader.scalars(
                        select(QuizAttempt)
                        .where(QuizAttempt.active_user_id.is_not(None), QuizAttempt.deadline <= now)
                        .order_by(QuizAttempt.deadline)
                        .limit(CLOSE_BATCH)
                    )
                ).all()
            )
        if not due:
            return closed
        for target in due:
            closed += await close_if_due(sessions, target, now)
        if len(due) < CLOSE_BATCH:
            return closed


def _versions(target: QuizAttempt) -> dict[uuid.UUID, int]:
    return {uuid.UUID(q["question_id"]): int(q["version"]) for q in target.questions}


def given_versions(target: QuizAttempt) -> list[tuple[uuid.UUID, int]]:
    """The (question, version) pairs the attempt was given, in its order."""
    return list(_versions(target).items())


async def canonical(
    session: AsyncSession, target: QuizAttempt, answers: Mapping[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The answers of one save checked and translated (view tokens in, author ids out); the
    whole save is refused if one answer is: a question the attempt lacks, a malformed
    answer. Reads only (the question versions the attempt was given)."""
    given = _versions(target)
    if unknown := [str(q) for q in answers if q not in given]:
        raise QuestionNotInAttempt("This attempt was not given these questions.", questions=unknown)
    definitions = await banks.versions(session, [(q, given[q]) for q in answers])
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for question_id, data in answers.items():
        definition = definitions[(question_id, given[question_id])]
        seed = question_seed(target.seed, str(question_id))
        if definition.type == "file_upload":
            data = await uploads.stored_files(session, target, data)
        try:
            response = receive(definition, seed, data)
        except InvalidResponse as exc:
            raise InvalidResponse(
                f"The answer to question {question_id} is not valid: {exc.detail}",
                errors=exc.errors,
                question=str(question_id),
            ) from None
        found[question_id] = response.model_dump(mode="json")
    return found


def check_open(target: QuizAttempt, now: datetime) -> None:
    """Refuse answers to a submitted attempt or one past its deadline (past it, the answer
    says so whether or not the deadline's job has closed the attempt yet)."""
    past = target.deadline is not None and now >= target.deadline
    if target.active_user_id is None and not past:
        raise AttemptClosed("This attempt was submitted; it takes no more answers.")
    if past:
        raise AttemptClosed(
            "The time for this attempt is over; it takes no more answers.",
            deadline=target.deadline.isoformat() if target.deadline else None,
        )


# The batch's statements, built once (expanding parameters): building them per batch
# (SQLAlchemy's coercion of each ``in_``) was a tenth of an autosave's CPU.
_CLAIM = (
    update(QuizAttempt)
    .where(
        QuizAttempt.id.in_(bindparam("ids", expanding=True, type_=QuizAttempt.id.type)),
        QuizAttempt.active_user_id.is_not(None),
    )
    .values(updated_at=bindparam("now", type_=QuizAttempt.updated_at.type))
    .returning(QuizAttempt.id)
    .execution_options(synchronize_session=False)
)
_CURRENT = select(
    AttemptAnswer.id,
    AttemptAnswer.attempt_id,
    AttemptAnswer.question_id,
    AttemptAnswer.seq,
    AttemptAnswer.saved_at,
).where(
    AttemptAnswer.attempt_id.in_(
        bindparam("attempts", expanding=True, type_=AttemptAnswer.attempt_id.type)
    ),
    AttemptAnswer.question_id.in_(
        bindparam("questions", expanding=True, type_=AttemptAnswer.question_id.type)
    ),
)


@dataclass(frozen=True)
class AnswerWrite:
    """One save's checked answers (``canonical``) for an attempt, with its sequence number
    and arrival time."""

    attempt_id: uuid.UUID
    seq: int
    answers: Mapping[uuid.UUID, dict[str, Any]]
    now: datetime


Written = tuple[list[uuid.UUID], list[uuid.UUID]] | None
"""The question ids a save wrote and those a newer save had written (stale); None when
its attempt was closed."""


async def write_batch(
    session: AsyncSession, saves: Sequence[AnswerWrite], *, claim: bool = True
) -> list[Written]:
    """Write saves in the caller's transaction, in a few statements however many there are:
    claim the attempts still open (``claim``; on PostgreSQL the update locks their rows, so
    a submission running at the same time waits for the batch or the batch sees it
    submitted), read their answers' sequence numbers, and update each answer the save is
    newer for (saves of one attempt apply in order). The saves' deadlines were checked at
    arrival (``check_open``): an answer that arrived in time is kept."""
    if not saves:
        return []
    ids = sorted({save.attempt_id for save in saves})
    open_ids = set(ids)
    if claim:
        claimed = await session.execute(
            _CLAIM, {"ids": ids, "now": max(save.now for save in saves)}
        )
        open_ids = set(claimed.scalars().all())
    # Only the answers the saves name (an autosave carries one or a few of an attempt's
    # questions): reading every answer of each attempt made the rows' conversion (ids,
    # times) a tenth of a save's CPU. A superset (attempts x questions), filtered below.
    question_ids = {q for save in saves if save.attempt_id in open_ids for q in save.answers}
    current: dict[tuple[uuid.UUID, uuid.UUID], list[Any]] = {}
    if open_ids and question_ids:
        rows = await session.execute(
            _CURRENT, {"attempts": list(open_ids), "questions": list(question_ids)}
        )
        current = {(r.attempt_id, r.question_id): [r.id, r.seq, r.saved_at] for r in rows.all()}
    changes: dict[uuid.UUID, dict[str, Any]] = {}
    results: list[Written] = []
    for save in saves:
        if save.attempt_id not in open_ids:
            results.append(None)
            continue
        saved: list[uuid.UUID] = []
        stale: list[uuid.UUID] = []
        for question_id, response in save.answers.items():
            row = current[(save.attempt_id, question_id)]
            if row[1] >= save.seq and row[2] is not None:
                stale.append(question_id)
                continue
            row[1], row[2] = save.seq, save.now
            changes[row[0]] = {
                "id": row[0],
                "response": response,
                "seq": save.seq,
                "saved_at": save.now,
            }
            saved.append(question_id)
        results.append((saved, stale))
    if changes:
        await session.execute(update(AttemptAnswer), list(changes.values()))
    return results


async def save(
    session: AsyncSession,
    target: QuizAttempt,
    seq: int,
    answers: Mapping[uuid.UUID, dict[str, Any]],
    now: datetime,
) -> SaveOut:
    """Check and write the answers of one save to ``target`` (locked by the caller)."""
    check_open(target, now)
    checked = await canonical(session, target, answers)
    written = await write_batch(session, [AnswerWrite(target.id, seq, checked, now)], claim=False)
    saved, stale = written[0] or ([], [])
    target.updated_at = now
    return SaveOut(saved=saved, stale=stale, deadline=target.deadline)


def summary(target: QuizAttempt, *, show_score: bool) -> AttemptSummary:
    """An attempt in a list; its score only when it may be shown."""
    return AttemptSummary(
        id=target.id,
        user_id=target.user_id,
        number=target.number,
        status="active" if target.active_user_id is not None else "submitted",
        started_at=target.started_at,
        submitted_at=target.submitted_at,
        score=target.score if show_score else None,
        points=target.points,
        pending=target.pending if show_score else None,
    )


async def view(
    session: AsyncSession,
    quiz: Quiz,
    target: QuizAttempt,
    *,
    results: bool,
    key: bool,
    definitions: Mapping[tuple[uuid.UUID, int], Any] | None = None,
    answers: Sequence[AttemptAnswer] | None = None,
) -> AttemptOut:
    """The attempt as shown: student views and saved answers (tokens), plus results and
    key material only when ``results`` / ``key`` (the release policy, or staff) allow.
    ``definitions``: the attempt's parsed question versions when the caller has them
    (``hotpath.Memory.definitions``), else they are read; ``answers``: its answer rows as
    the caller just wrote them (a start, a submission), else they are read."""
    given = _versions(target)
    if definitions is None:
        definitions = await banks.versions(session, list(given.items()))
    if answers is None:
        answers = await grading.answers_of(session, target)
    rows = {r.question_id: r for r in answers}
    shown: list[AttemptQuestion] = []
    for question_id, version in given.items():
        definition = definitions[(question_id, version)]
        seed = question_seed(target.seed, str(question_id))
        student_view = student_views.student_view(definition, question_id, version, seed)
        row = rows.get(question_id)
        answer = None
        if row is not None and row.response is not None:
            response = _response(definition, row.response)
            if response is not None:
                answer = as_shown(definition, seed, response).model_dump(mode="json")
        shown.append(
            AttemptQuestion(
                id=question_id, view=student_view, answer=answer, seq=row.seq if row else 0
            )
        )
    out = AttemptOut(
        id=target.id,
        quiz_id=quiz.id,
        user_id=target.user_id,
        number=target.number,
        status="active" if target.active_user_id is not None else "submitted",
        started_at=target.started_at,
        deadline=target.deadline,
        submitted_at=target.submitted_at,
        submitted_by=target.submitted_by,
        questions=shown,
        points=target.points,
    )
    if target.submitted_at is None:
        return out
    if results:
        out.score = target.score
        out.pending = target.pending
        out.results = {
            str(q): QuestionResult(score=r.score, points=r.points, status=r.status)
            for q, r in rows.items()
        }
    if key:
        current = await session.scalars(select(Question).where(Question.id.in_(list(given))))
        out.key = {
            str(q.id): {
                "definition": q.definition,
                "version": q.version,
                "response": rows[q.id].response if q.id in rows else None,
                "result": rows[q.id].result if q.id in rows else None,
                "comment": rows[q.id].grader_comment if q.id in rows else None,
            }
            for q in current.all()
        }
    return out


def _response(definition: Any, stored: dict[str, Any]) -> Any:
    try:
        return question_type(definition).response.model_validate(stored)
    except ValueError:
        return None
