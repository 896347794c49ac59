"""Quizzes REST: a course's quizzes and their settings, accommodations, releasing results,
a learner's own view of a quiz, and the graders' lists (attempts, answers to grade,
statistics)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import select
from starlette.responses import Response

from jobs.events import emit
from lms.assessments import access, attempts, banks, quizzes, scores, statistics
from lms.assessments.bank_routes import PAGE, Cursor, Limit, question_out
from lms.assessments.events import QUIZ_RELEASED, QuizReleased
from lms.assessments.schemas import (
    AccommodationIn,
    AccommodationOut,
    AccommodationPage,
    AttemptPage,
    GradingItem,
    GradingPage,
    MyQuizOut,
    QuizIn,
    QuizOut,
    QuizPage,
    QuizStatistics,
)
from lms.audit.service import audit
from lms.auth import Principal
from lms.content.structure import delete_items_showing
from lms.courses.roles import CourseAction, CourseRole
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import InvalidInput
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import AttemptAnswer, Enrollment, QuizAccommodation, QuizAttempt
from persistence.models import Quiz as QuizRow
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["quizzes"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


def quiz_out(row: QuizRow) -> QuizOut:
    """A quiz and its settings."""
    return QuizOut.model_validate(row)


@router.get("/courses/{course_id}/quizzes", summary="A course's quizzes")
async def list_quizzes(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> QuizPage:
    """By id; learners see the published ones."""
    course, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    query = select(QuizRow).where(QuizRow.course_id == course.id)
    if role not in (CourseRole.INSTRUCTOR, CourseRole.TA):
        query = query.where(QuizRow.published.is_(True))
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(QuizRow.id > after)
    rows = list((await session.scalars(query.order_by(QuizRow.id).limit(limit + 1))).all())
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = encode_key_cursor(rows[-1].id) if more else None
    link_next(request, response, next_cursor)
    return QuizPage(items=[quiz_out(q) for q in rows], next=next_cursor)


@router.post(
    "/courses/{course_id}/quizzes", status_code=status.HTTP_201_CREATED, summary="Add a quiz"
)
async def create_quiz(
    course_id: uuid.UUID, body: QuizIn, request: Request, session: SessionDep, principal: Manager
) -> QuizOut:
    """A quiz with its slots and settings (a draft unless published)."""
    course = await access.author_of_course(session, course_id, principal)
    created = await quizzes.create_quiz(session, course.id, body, by=principal.user_id)
    if created.published:
        await scores.ensure(session, created, await quizzes.nominal_points(session, created))
    audit(session, request, "quiz.create", target_type="quiz", target_id=created.id)
    await session.commit()
    return quiz_out(created)


@router.get("/quizzes/{quiz_id}", summary="A quiz")
async def get_quiz(quiz_id: uuid.UUID, session: SessionDep, principal: Reader) -> QuizOut:
    """Its settings; learners see published quizzes only."""
    return quiz_out((await access.quiz_for(session, quiz_id, principal, CourseAction.VIEW)).quiz)


@router.patch("/quizzes/{quiz_id}", summary="Change a quiz")
async def update_quiz(
    quiz_id: uuid.UUID, body: QuizIn, request: Request, session: SessionDep, principal: Manager
) -> QuizOut:
    """The fields given; open attempts keep the deadline they started with."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.EDIT)).quiz
    await quizzes.apply(session, target, body)
    if target.published:
        await scores.ensure(session, target, await quizzes.nominal_points(session, target))
    fields = sorted(body.model_dump(exclude_unset=True))
    audit(session, request, "quiz.update", target_type="quiz", target_id=quiz_id, fields=fields)
    await session.commit()
    return quiz_out(target)


@router.delete("/quizzes/{quiz_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete")
async def delete_quiz(
    quiz_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> Response:
    """The quiz, its attempts, and the module items showing it."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.EDIT)).quiz
    await delete_items_showing(session, "quiz", target.id)
    await session.delete(target)
    audit(session, request, "quiz.delete", target_type="quiz", target_id=quiz_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/quizzes/{quiz_id}/release", summary="Release a quiz's results")
async def release(
    quiz_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> QuizOut:
    """Learners see what the ``manual`` release policies govern from now on."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.EDIT)).quiz
    if target.released_at is None:
        target.released_at = utcnow()
        payload = QuizReleased(
            quiz_id=target.id,
            course_id=target.course_id,
            released_by=principal.user_id,
            at=target.released_at,
        )
        await emit(session, QUIZ_RELEASED, payload, aggregate_id=target.id)
    audit(session, request, "quiz.release", target_type="quiz", target_id=quiz_id)
    await session.commit()
    return quiz_out(target)


@router.put("/quizzes/{quiz_id}/accommodations/{user_id}", summary="Set an accommodation")
async def set_accommodation(
    quiz_id: uuid.UUID,
    user_id: uuid.UUID,
    body: AccommodationIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> AccommodationOut:
    """Extra time (seconds) and extra attempts for one student of the course."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.EDIT)).quiz
    enrolled = await session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == target.course_id, Enrollment.user_id == user_id
        )
    )
    if enrolled != CourseRole.STUDENT.value:
        raise InvalidInput("Accommodations are for the course's students.")
    row = await quizzes.accommodation(session, target.id, user_id)
    if row is None:
        row = QuizAccommodation(quiz_id=target.id, user_id=user_id)
        session.add(row)
    row.extra_seconds = body.extra_seconds
    row.extra_attempts = body.extra_attempts
    audit(
        session,
        request,
        "quiz.accommodation.set",
        target_type="quiz",
        target_id=quiz_id,
        user=str(user_id),
        **body.model_dump(),
    )
    await session.commit()
    return AccommodationOut(user_id=user_id, **body.model_dump())


@router.get("/quizzes/{quiz_id}/accommodations", summary="A quiz's accommodations")
async def list_accommodations(
    quiz_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> AccommodationPage:
    """By learner id; the course's graders."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.GRADE)).quiz
    query = select(QuizAccommodation).where(QuizAccommodation.quiz_id == target.id)
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(QuizAccommodation.user_id > after)
    rows = list(
        (await session.scalars(query.order_by(QuizAccommodation.user_id).limit(limit + 1))).all()
    )
    more, rows = len(rows) > limit, rows[:limit]
    items = [
        AccommodationOut(
            user_id=r.user_id, extra_seconds=r.extra_seconds, extra_attempts=r.extra_attempts
        )
        for r in rows
    ]
    next_cursor = encode_key_cursor(rows[-1].user_id) if more else None
    link_next(request, response, next_cursor)
    return AccommodationPage(items=items, next=next_cursor)


@router.get("/quizzes/{quiz_id}/me", summary="A quiz as I may take it")
async def my_quiz(quiz_id: uuid.UUID, session: SessionDep, principal: Reader) -> MyQuizOut:
    """Settings, my attempts (scores only when released), attempts left, my open attempt."""
    target = await access.learner_quiz(session, quiz_id, principal)
    now = utcnow()
    mine = await attempts.of_learner(session, target.id, principal.user_id)
    extra = await quizzes.accommodation(session, target.id, principal.user_id)
    allowed = quizzes.attempts_allowed(target, extra.extra_attempts if extra else 0)
    shown = quizzes.released(target.results_release, target, now)
    active = next((a.id for a in mine if a.active_user_id is not None), None)
    return MyQuizOut(
        quiz=quiz_out(target),
        attempts=[attempts.summary(a, show_score=shown) for a in mine],
        attempts_left=None if allowed is None else max(0, allowed - len(mine)),
        active_attempt=active,
        score=quizzes.kept_score(target.keep, mine) if shown else None,
        extra_seconds=extra.extra_seconds if extra else 0,
    )


@router.get("/quizzes/{quiz_id}/attempts", summary="Every attempt at a quiz")
async def list_attempts(
    quiz_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> AttemptPage:
    """By attempt id, with scores; the course's graders."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.GRADE)).quiz
    query = select(QuizAttempt).where(QuizAttempt.quiz_id == target.id)
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(QuizAttempt.id > after)
    rows = list((await session.scalars(query.order_by(QuizAttempt.id).limit(limit + 1))).all())
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = encode_key_cursor(rows[-1].id) if more else None
    link_next(request, response, next_cursor)
    items = [attempts.summary(a, show_score=True) for a in rows]
    return AttemptPage(items=items, next=next_cursor)


@router.get("/quizzes/{quiz_id}/grading", summary="Answers to grade for one question")
async def grading_queue(
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    ungraded: bool = True,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> GradingPage:
    """The submitted answers to ``question_id`` (by default those still waiting for a
    grader), by attempt; the course's graders."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.GRADE)).quiz
    question = await banks.question(session, question_id)
    if question.course_id != target.course_id:
        raise InvalidInput("The question is not one of this course's.")
    query = (
        select(AttemptAnswer, QuizAttempt)
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(
            QuizAttempt.quiz_id == target.id,
            QuizAttempt.submitted_at.is_not(None),
            AttemptAnswer.question_id == question_id,
        )
    )
    if ungraded:
        query = query.where(AttemptAnswer.status != "graded", AttemptAnswer.graded_by.is_(None))
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(QuizAttempt.id > after)
    rows = list((await session.execute(query.order_by(QuizAttempt.id).limit(limit + 1))).all())
    more, rows = len(rows) > limit, rows[:limit]
    items = [
        GradingItem(
            attempt_id=a.id,
            user_id=a.user_id,
            question_id=answer.question_id,
            response=answer.response,
            status=answer.status,
            score=answer.score,
            points=answer.points,
            comment=answer.grader_comment,
        )
        for answer, a in rows
    ]
    next_cursor = encode_key_cursor(rows[-1][1].id) if more else None
    link_next(request, response, next_cursor)
    return GradingPage(question=question_out(question), items=items, next=next_cursor)


@router.get("/quizzes/{quiz_id}/statistics", summary="A quiz's statistics")
async def quiz_statistics(
    quiz_id: uuid.UUID, session: SessionDep, principal: Manager
) -> QuizStatistics:
    """Score distribution, item difficulty and discrimination, average time; graders."""
    target = (await access.quiz_for(session, quiz_id, principal, CourseAction.GRADE)).quiz
    return await statistics.of_quiz(session, target)
