"""Attempts REST: a student starts an attempt, reads it, autosaves answers and submits; a
grader scores an answer by hand. Results and correct answers reach a student only when the
quiz's release policy allows; the deadline is the server's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import access, attempts, autosave, grading, hotpath, load, quizzes, starts
from lms.assessments.errors import AttemptClosed
from lms.assessments.schemas import AnswersIn, AttemptOut, GradeIn, SaveOut, SubmitIn
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import MetricsDep, ReadSessionDep, SessionDep, SettingsDep, WriterSessionsDep
from lms.errors import Forbidden
from lms.permissions import Permission, admit, require, require_reading
from persistence.models import AttemptAnswer, QuizAttempt
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["quizzes"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
ReadingLearner = Annotated[Principal, Depends(require_reading(Permission.COURSES_READ))]


def _json(model: BaseModel, status_code: int = status.HTTP_200_OK) -> Response:
    """``model`` as the JSON body, serialised once by pydantic: on the quiz hot paths a
    returned model would be validated again and walked by ``jsonable_encoder`` (the route
    declares ``response_model`` for the OpenAPI schema)."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


async def _out(
    session: AsyncSession,
    target: QuizAttempt,
    shown: access.QuizAccess,
    now: datetime,
    memory: hotpath.Memory | None = None,
    answers: Sequence[AttemptAnswer] | None = None,
) -> AttemptOut:
    quiz = shown.quiz
    results = shown.staff or quizzes.released(quiz.results_release, quiz, now)
    key = shown.staff or quizzes.released(quiz.answers_release, quiz, now)
    known = None
    if memory is not None:  # the node's parsed question versions (immutable)
        known = await memory.definitions(session, attempts.given_versions(target))
    return await attempts.view(
        session, quiz, target, results=results, key=key, definitions=known, answers=answers
    )


@router.post(
    "/quizzes/{quiz_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    response_model=AttemptOut,
    summary="Start (or resume) my attempt",
    responses={
        200: {"description": "My attempt already open, resumed."},
        503: {"description": "The server is saturated; try again after Retry-After."},
    },
)
async def start_attempt(
    quiz_id: uuid.UUID,
    request: Request,
    reader: ReadSessionDep,
    sessions: WriterSessionsDep,
    settings: SettingsDep,
    principal: ReadingLearner,
) -> Response:
    """A new attempt (201), or the one I have open (200): one open attempt per quiz.

    Reads (the quiz, my role, my attempts, the module locks, the questions drawn) go through
    a reader; only a new attempt takes a short write. Both wait in the node's bounded lines
    (``load``): a full line answers 503 with Retry-After at once."""
    gates = load.load_for(sessions, settings)
    now = utcnow()
    await reader.close()  # no connection held while waiting in line
    async with gates.reads.slot():
        quiz = await access.learner_quiz(reader, quiz_id, principal)
        mine = await attempts.of_learner(reader, quiz.id, principal.user_id)
        active = next((a for a in mine if a.active_user_id is not None), None)
        plan = None
        if active is None or attempts.is_due(active, now):
            if active is None:
                await access.check_reach(reader, quiz, principal)
            plan = await starts.plan_start(reader, quiz, principal.user_id, now, mine)
        await reader.close()
    target, created = active, False
    memory = hotpath.memory_for(sessions)
    if plan is not None:
        async with gates.writes.slot(), sessions() as writer:
            for old in mine:
                if attempts.is_due(old, now):
                    row = await attempts.locked(writer, old.id)
                    if attempts.is_due(row, now):
                        await grading.finish(
                            writer,
                            row,
                            by="deadline",
                            now=now,
                            quiz=quiz,
                            definitions=memory.definitions,
                        )
            target, created = await starts.create(writer, quiz, principal.user_id, plan, now)
            if created:
                audit(
                    writer,
                    request,
                    "quiz.attempt.start",
                    target_type="attempt",
                    target_id=target.id,
                )
            await writer.commit()
    assert target is not None
    # No line here: what was done is answered, or the retry would find it done anyway.
    # The node learns the attempt's facts now, so the learner's first autosave already
    # takes the hot path (``hotpath``) rather than the full check's reads.
    if target.active_user_id is not None:
        await memory.learn(reader, target)
    # A new attempt's answers are its empty rows, just written: nothing to read.
    answers: list[AttemptAnswer] | None = [] if created else None
    out = await _out(reader, target, access.QuizAccess(quiz, None), now, memory, answers)
    await reader.close()
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _json(out, code)


@router.get("/attempts/{attempt_id}", summary="An attempt")
async def get_attempt(
    attempt_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    sessions: WriterSessionsDep,
    settings: SettingsDep,
) -> AttemptOut:
    """Its questions (student views) and my saved answers; an attempt past its deadline is
    submitted first. Scores and correct answers only as the release policy allows."""
    target, shown = await access.attempt_for(session, attempt_id, principal)
    now = utcnow()
    if attempts.is_due(target, now):
        async with load.load_for(sessions, settings).turn():
            closed = await attempts.close_if_due(sessions, target, now)
        if closed:
            await session.refresh(target)
    return await _out(session, target, shown, now, hotpath.memory_for(sessions))


@router.put(
    "/attempts/{attempt_id}/answers",
    response_model=SaveOut,
    summary="Autosave answers",
    responses={503: {"description": "The server is saturated; try again after Retry-After."}},
)
async def save_answers(
    attempt_id: uuid.UUID,
    request: Request,
    sessions: WriterSessionsDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    caller: Annotated[hotpath.TokenCaller | Principal, Depends(hotpath.saving_learner)],
    body: AnswersIn | None = None,
) -> Response:
    """Answers by question id in the view's tokens; written only when ``seq`` is newer than
    the save that wrote each answer. Refused after the deadline or the submission.

    The hot path of a quiz (every student, every few seconds). A save of an attempt this
    node knows is checked with no read and no session (``hotpath``: the token, the owner,
    the deadline, the answers) and the database confirms the caller in the write's batch;
    otherwise the caller, the attempt and the answers are read and checked through a reader
    (no write lock). Either way the write joins the node's next group commit
    (``autosave``), which first claims the attempt still open, and the answer comes once
    that commit is durable."""
    now = utcnow()
    if body is None:  # the caller is checked the full way first: a revoked token gets 401
        if not isinstance(caller, Principal):
            async with hotpath.read_sessions(request)() as reader:
                await admit(request, reader, Permission.COURSES_READ)
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    gates = load.load_for(sessions, settings)
    writer = autosave.writer_for(
        sessions, metrics, settings.quiz_autosave_max_pending, turn=gates.turn
    )
    memory = hotpath.memory_for(sessions)
    facts = memory.get(attempt_id) if isinstance(caller, hotpath.TokenCaller) else None
    if (
        isinstance(caller, hotpath.TokenCaller)
        and facts is not None
        and facts.user_id == caller.user_id
        and (facts.deadline is None or now < facts.deadline)
    ):
        try:
            checked = hotpath.canonical(facts, body.answers)
            confirm = hotpath.Caller(caller.user_id, caller.token_version, facts.course_id)
            written = await writer.write(attempt_id, body.seq, checked, now, confirm)
        except hotpath.Recheck:
            pass  # the full way below decides, with the proper error
        else:
            if written is not None:
                return _json(SaveOut(saved=written[0], stale=written[1], deadline=facts.deadline))
            memory.forget(attempt_id)
    principal = caller if isinstance(caller, Principal) else None
    # No connection held while waiting in line; on PostgreSQL readers and writers share one
    # pool: hold one connection at a time, or a burst of saves could take every connection
    # and wait forever for a second one (the reader is closed before the write).
    async with gates.reads.slot(), hotpath.read_sessions(request)() as reader:
        if principal is None:
            principal = await admit(request, reader, Permission.COURSES_READ)
        target, _ = await access.attempt_for(reader, attempt_id, principal)
        if target.user_id != principal.user_id:
            raise Forbidden("Only the learner answers an attempt.")
        try:
            attempts.check_open(target, now)
        except AttemptClosed:
            await reader.close()
            memory.forget(attempt_id)
            if attempts.is_due(target, now):
                async with gates.turn():
                    await attempts.close_if_due(sessions, target, now)
            raise
        checked = await attempts.canonical(reader, target, body.answers)
        await memory.learn(reader, target)
        await reader.close()
    written = await writer.write(target.id, body.seq, checked, now)
    if written is None:
        memory.forget(attempt_id)
        if attempts.is_due(target, now):
            async with gates.turn():
                await attempts.close_if_due(sessions, target, now)
        raise AttemptClosed(
            "This attempt was submitted or its time is over; it takes no more answers.",
            deadline=target.deadline.isoformat() if target.deadline else None,
        )
    saved, stale = written
    return _json(SaveOut(saved=saved, stale=stale, deadline=target.deadline))


@router.post(
    "/attempts/{attempt_id}/submit",
    response_model=AttemptOut,
    summary="Submit my attempt",
    responses={503: {"description": "The server is saturated; try again after Retry-After."}},
)
async def submit_attempt(
    attempt_id: uuid.UUID,
    request: Request,
    reader: ReadSessionDep,
    sessions: WriterSessionsDep,
    settings: SettingsDep,
    principal: ReadingLearner,
    body: SubmitIn | None = None,
) -> Response:
    """Saves the answers given (as an autosave), submits and grades; committed before the
    answer. Submitting again answers the same submitted attempt.

    Who may submit is read through a reader; the submission is one short writer transaction
    (the attempt's row locked); both wait in the node's bounded lines (503 when full)."""
    gates = load.load_for(sessions, settings)
    now = utcnow()
    await reader.close()
    async with gates.reads.slot():
        target, shown = await access.attempt_for(reader, attempt_id, principal)
        await reader.close()
    if target.user_id != principal.user_id:
        raise Forbidden("Only the learner submits an attempt.")
    memory = hotpath.memory_for(sessions)
    graded: list[AttemptAnswer] | None = None
    if target.active_user_id is not None:
        async with gates.writes.slot(), sessions() as writer:
            row = await attempts.locked(writer, attempt_id)
            if row.active_user_id is not None:
                if body is not None and body.answers and not attempts.is_due(row, now):
                    await attempts.save(writer, row, body.seq or 0, body.answers, now)
                by = "deadline" if attempts.is_due(row, now) else "learner"
                graded = await grading.finish(
                    writer, row, by=by, now=now, quiz=shown.quiz, definitions=memory.definitions
                )
                audit(
                    writer, request, "quiz.attempt.submit", target_type="attempt", target_id=row.id
                )
                await writer.commit()
            target = row
    # The view is built from the answers the submission graded and committed (no read),
    # or read when another request had submitted the attempt. No line here.
    out = await _out(reader, target, shown, now, memory, graded)
    await reader.close()
    return _json(out)


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
