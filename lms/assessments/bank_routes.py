"""Question banks REST: a course's banks, their questions (versioned; a change regrades the
submitted attempts), and a preview of a definition as a student would see it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select
from starlette.responses import Response

from lms.assessments import access, banks, grading
from lms.assessments.questions import grade, parse_definition, present, receive
from lms.assessments.schemas import (
    BankIn,
    BankOut,
    BankPage,
    PreviewIn,
    PreviewOut,
    QuestionIn,
    QuestionOut,
    QuestionPage,
)
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Question, QuestionBank
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["quizzes"])
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
PAGE = 100
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=PAGE)]


def question_out(row: Question, *, regraded: int | None = None) -> QuestionOut:
    """A question as its authors see it."""
    return QuestionOut(
        id=row.id,
        bank_id=row.bank_id,
        type=row.type,
        title=row.title,
        tags=row.tags,
        version=row.version,
        archived=row.archived,
        definition=row.definition,
        regraded_attempts=regraded,
    )


@router.get("/courses/{course_id}/question-banks", summary="A course's question banks")
async def list_banks(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> BankPage:
    """Banks by id, with how many live questions each holds; authors only."""
    course = await access.author_of_course(session, course_id, principal)
    query = select(QuestionBank).where(QuestionBank.course_id == course.id)
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(QuestionBank.id > after)
    rows = list((await session.scalars(query.order_by(QuestionBank.id).limit(limit + 1))).all())
    more, rows = len(rows) > limit, rows[:limit]
    counts = await banks.question_counts(session, [b.id for b in rows])
    items = [
        BankOut(
            id=b.id,
            course_id=b.course_id,
            title=b.title,
            questions=counts.get(b.id, 0),
            created_at=b.created_at,
        )
        for b in rows
    ]
    next_cursor = encode_key_cursor(rows[-1].id) if more else None
    link_next(request, response, next_cursor)
    return BankPage(items=items, next=next_cursor)


@router.post(
    "/courses/{course_id}/question-banks",
    status_code=status.HTTP_201_CREATED,
    summary="Add a question bank",
)
async def create_bank(
    course_id: uuid.UUID, body: BankIn, request: Request, session: SessionDep, principal: Manager
) -> BankOut:
    """A new, empty bank in the course."""
    course = await access.author_of_course(session, course_id, principal)
    created = await banks.create_bank(session, course.id, body.title, by=principal.user_id)
    audit(session, request, "quiz.bank.create", target_type="question_bank", target_id=created.id)
    await session.commit()
    return BankOut(
        id=created.id, course_id=course.id, title=created.title, created_at=created.created_at
    )


@router.patch("/question-banks/{bank_id}", summary="Rename a question bank")
async def update_bank(
    bank_id: uuid.UUID, body: BankIn, request: Request, session: SessionDep, principal: Manager
) -> BankOut:
    """The bank's new title."""
    target = await access.author_of_bank(session, bank_id, principal)
    target.title = body.title
    audit(session, request, "quiz.bank.update", target_type="question_bank", target_id=bank_id)
    await session.commit()
    counts = await banks.question_counts(session, [target.id])
    return BankOut(
        id=target.id,
        course_id=target.course_id,
        title=target.title,
        questions=counts.get(target.id, 0),
        created_at=target.created_at,
    )


@router.get("/question-banks/{bank_id}/questions", summary="A bank's questions")
async def list_questions(
    bank_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    archived: bool = False,
    cursor: Cursor = None,
    limit: Limit = PAGE,
) -> QuestionPage:
    """Questions by id, with their keys (authors only); ``tag`` keeps those carrying it."""
    target = await access.author_of_bank(session, bank_id, principal)
    query = select(Question).where(Question.bank_id == target.id, Question.archived == archived)
    after = decode_key_cursor(cursor)
    if after is not None:
        query = query.where(Question.id > after)
    rows: list[Question] = []
    scan = query.order_by(Question.id)
    # Tags are a JSON list: filter here, reading on until the page is full.
    while len(rows) <= limit:
        batch = list((await session.scalars(scan.limit(PAGE + 1))).all())
        rows.extend(q for q in batch if tag is None or tag in q.tags)
        if len(batch) <= PAGE:
            break
        scan = query.where(Question.id > batch[-1].id).order_by(Question.id)
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = encode_key_cursor(rows[-1].id) if more else None
    link_next(request, response, next_cursor)
    return QuestionPage(items=[question_out(q) for q in rows], next=next_cursor)


@router.post(
    "/question-banks/{bank_id}/questions",
    status_code=status.HTTP_201_CREATED,
    summary="Add a question",
)
async def create_question(
    bank_id: uuid.UUID, body: QuestionIn, request: Request, session: SessionDep, principal: Manager
) -> QuestionOut:
    """A question of any type (the definition's ``type``), validated; version 1."""
    target = await access.author_of_bank(session, bank_id, principal)
    created = await banks.create_question(session, target, body, by=principal.user_id)
    audit(session, request, "quiz.question.create", target_type="question", target_id=created.id)
    await session.commit()
    return question_out(created)


@router.get("/questions/{question_id}", summary="A question")
async def get_question(
    question_id: uuid.UUID, session: SessionDep, principal: Manager
) -> QuestionOut:
    """The question with its key; authors only."""
    return question_out(await access.author_of_question(session, question_id, principal))


@router.put("/questions/{question_id}", summary="Change a question (regrades)")
async def update_question(
    question_id: uuid.UUID,
    body: QuestionIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> QuestionOut:
    """Title, tags and definition (the type stays). A changed definition is a new version:
    open attempts keep showing theirs, and every submitted attempt given the question is
    regraded with the new key (each changed score recorded)."""
    target = await access.author_of_question(session, question_id, principal)
    changed = await banks.update_question(session, target, body, by=principal.user_id)
    regraded = None
    if changed:
        regraded = await grading.regrade_question(
            session, target, by=principal.user_id, now=utcnow()
        )
    audit(
        session,
        request,
        "quiz.question.update",
        target_type="question",
        target_id=question_id,
        version=target.version,
        regraded=regraded or 0,
    )
    await session.commit()
    return question_out(target, regraded=regraded)


@router.delete(
    "/questions/{question_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive a question",
)
async def archive_question(
    question_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> Response:
    """No longer drawn by quizzes; attempts that were given it still show it."""
    target = await access.author_of_question(session, question_id, principal)
    target.archived = True
    audit(session, request, "quiz.question.archive", target_type="question", target_id=target.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/courses/{course_id}/question-preview", summary="Preview a question")
async def preview(
    course_id: uuid.UUID, body: PreviewIn, session: SessionDep, principal: Manager
) -> PreviewOut:
    """A definition as a student would see it for ``seed`` and, given an answer in that
    view's tokens, its grade (the editor's preview); nothing is stored."""
    await access.author_of_course(session, course_id, principal)
    definition = parse_definition(body.definition)
    view = present(definition, body.seed)[0].model_dump(mode="json")
    result = None
    if body.response is not None:
        response = receive(definition, body.seed, body.response)
        result = grade(definition, response).model_dump(mode="json")
    return PreviewOut(view=view, result=result)
