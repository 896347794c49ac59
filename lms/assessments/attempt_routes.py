"""Attempts REST: a student starts an attempt, reads it, autosaves answers and submits; a
grader scores an answer by hand. Results and correct answers reach a student only when the
quiz's release policy allows; the deadline is the server's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import access, attempts, autosave, grading, quizzes
from lms.assessments.errors import AttemptClosed
from lms.assessments.schemas import AnswersIn, AttemptOut, GradeIn, SaveOut, SubmitIn
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import MetricsDep, ReadSessionDep, SessionDep, WriterSessionsDep
from lms.errors import Forbidden
from lms.permissions import Permission, require, require_reading
from persistence.models import QuizAttempt
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["quizzes"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
ReadingLearner = Annotated[Principal, Depends(require_reading(Permission.COURSES_READ))]


async def _out(
    session: AsyncSession, target: QuizAttempt, shown: access.QuizAccess, now: datetime
) -> AttemptOut:
    quiz = shown.quiz
    results = shown.staff or quizzes.released(quiz.results_release, quiz, now)
    key = shown.staff or quizzes.released(quiz.answers_release, quiz, now)
    return await attempts.view(session, quiz, target, results=results, key=key)


@router.post(
    "/quizzes/{quiz_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    summary="Start (or resume) my attempt",
    responses={200: {"description": "My attempt already open, resumed."}},
)
async def start_attempt(
    quiz_id: uuid.UUID, request: Request, session: SessionDep, principal: Reader
) -> JSONResponse:
    """A new attempt (201), or the one I have open (200): one open attempt per quiz."""
    quiz = await access.learner_quiz(session, quiz_id, principal)
    now = utcnow()
    mine = await attempts.of_learner(session, quiz.id, principal.user_id)
    if not any(a.active_user_id is not None for a in mine):
        await access.check_reach(session, quiz, principal)
    for old in mine:
        if attempts.is_due(old, now):
            await grading.finish(session, old, by="deadline", now=now)
    target, created = await attempts.start(session, quiz, principal.user_id, now)
    if created:
        audit(session, request, "quiz.attempt.start", target_type="attempt", target_id=target.id)
    await session.commit()
    out = await _out(session, target, access.QuizAccess(quiz, None), now)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get("/attempts/{attempt_id}", summary="An attempt")
async def get_attempt(
    attempt_id: uuid.UUID, session: SessionDep, principal: Reader, sessions: WriterSessionsDep
) -> AttemptOut:
    """Its questions (student views) and my saved answers; an attempt past its deadline is
    submitted first. Scores and correct answers only as the release policy allows."""
    target, shown = await access.attempt_for(session, attempt_id, principal)
    now = utcnow()
    if await attempts.close_if_due(sessions, target, now):
        await session.refresh(target)
    return await _out(session, target, shown, now)


@router.put("/attempts/{attempt_id}/answers", summary="Autosave answers")
async def save_answers(
    attempt_id: uuid.UUID,
    body: AnswersIn,
    reader: ReadSessionDep,
    sessions: WriterSessionsDep,
    metrics: MetricsDep,
    principal: ReadingLearner,
) -> SaveOut:
    """Answers by question id in the view's tokens; written only when ``seq`` is newer than
    the save that wrote each answer. Refused after the deadline or the submission.

    The hot path of a quiz (every student, every few seconds): the caller, the attempt and
    the answers are read and checked without a write lock; the write joins the node's next
    group commit (``autosave``), which first claims the attempt still open, and the answer
    comes once that commit is durable."""
    now = utcnow()
    target, _ = await access.attempt_for(reader, attempt_id, principal)
    if target.user_id != principal.user_id:
        raise Forbidden("Only the learner answers an attempt.")
    try:
        attempts.check_open(target, now)
    except AttemptClosed:
        await reader.close()
        await attempts.close_if_due(sessions, target, now)
        raise
    checked = await attempts.canonical(reader, target, body.answers)
    # On PostgreSQL readers and writers share one pool: hold one connection at a time, or
    # a burst of saves could take every connection and wait forever for a second one.
    await reader.close()
    written = await autosave.writer_for(sessions, metrics).write(target.id, body.seq, checked, now)
    if written is None:
        await attempts.close_if_due(sessions, target, now)
        raise AttemptClosed(
            "This attempt was submitted or its time is over; it takes no more answers.",
            deadline=target.deadline.isoformat() if target.deadline else None,
        )
    saved, stale = written
    return SaveOut(saved=saved, stale=stale, deadline=target.deadline)


@router.post("/attempts/{attempt_id}/submit", summary="Submit my attempt")
async def submit_attempt(
    attempt_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Reader,
    body: SubmitIn | None = None,
) -> AttemptOut:
    """Saves the answers given (as an autosave), submits and grades; committed before the
    answer. Submitting again answers the same submitted attempt."""
    now = utcnow()
    target, shown = await access.attempt_for(session, attempt_id, principal, locking=True)
    if target.user_id != principal.user_id:
        raise Forbidden("Only the learner submits an attempt.")
    if target.active_user_id is not None:
        if body is not None and body.answers and not attempts.is_due(target, now):
            await attempts.save(session, target, body.seq or 0, body.answers, now)
        by = "deadline" if attempts.is_due(target, now) else "learner"
        await grading.finish(session, target, by=by, now=now)
        audit(session, request, "quiz.attempt.submit", target_type="attempt", target_id=target.id)
        await session.commit()
    return await _out(session, target, shown, now)


@router.post(
    "/attempts/{attempt_id}/questions/{question_id}/grade", summary="Grade an answer by hand"
)
async def grade_answer(
    attempt_id: uuid.UUID,
    question_id: uuid.UUID,
    body: GradeIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> AttemptOut:
    """A grader's score (and comment) for one answer of a submitted attempt."""
    target, shown = await access.attempt_for(session, attempt_id, principal, locking=True)
    if not shown.staff:
        raise Forbidden("Your role in this course does not allow grading.")
    now = utcnow()
    await grading.grade_by_hand(
        session,
        target,
        question_id,
        score=body.score,
        comment=body.comment,
        by=principal.user_id,
        now=now,
    )
    audit(
        session,
        request,
        "quiz.answer.grade",
        target_type="attempt",
        target_id=attempt_id,
        question=str(question_id),
        score=body.score,
    )
    await session.commit()
    return await _out(session, target, shown, now)
