"""Question banks and their versioned questions.

A question's definition is validated by the pure core before it is stored. Changing it adds
a version (``question_versions``) and moves ``questions.version``; an attempt keeps the
version it was given for what it shows, and ``grading.regrade_question`` recomputes the
submitted attempts with the new key. A question's type never changes (its stored answers
must stay readable); deleting one archives it, so attempts that were given it still show it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments.errors import InvalidQuestion
from lms.assessments.questions import QuestionDefinition, parse_definition
from lms.assessments.schemas import QuestionIn
from lms.errors import Conflict, NotFound
from persistence.models import Question, QuestionBank, QuestionVersion

MAX_BANKS_PER_COURSE = 500
MAX_QUESTIONS_PER_BANK = 5_000


async def bank(session: AsyncSession, bank_id: uuid.UUID) -> QuestionBank:
    """A bank by id, or 404."""
    found = await session.get(QuestionBank, bank_id)
    if found is None:
        raise NotFound("No such question bank.")
    return found


async def question(session: AsyncSession, question_id: uuid.UUID) -> Question:
    """A question by id, or 404."""
    found = await session.get(Question, question_id)
    if found is None:
        raise NotFound("No such question.")
    return found


async def create_bank(
    session: AsyncSession, course_id: uuid.UUID, title: str, *, by: uuid.UUID
) -> QuestionBank:
    """A new bank in a course."""
    count = await session.scalar(
        select(func.count()).select_from(QuestionBank).where(QuestionBank.course_id == course_id)
    )
    if (count or 0) >= MAX_BANKS_PER_COURSE:
        raise Conflict(f"A course holds at most {MAX_BANKS_PER_COURSE} question banks.")
    created = QuestionBank(course_id=course_id, title=title, created_by=by)
    session.add(created)
    await session.flush()
    return created


async def question_counts(
    session: AsyncSession, bank_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many live (not archived) questions each bank holds."""
    if not bank_ids:
        return {}
    rows = await session.execute(
        select(Question.bank_id, func.count())
        .where(Question.bank_id.in_(bank_ids), Question.archived.is_(False))
        .group_by(Question.bank_id)
    )
    return {bank_id: count for bank_id, count in rows.all()}


def checked(definition: dict[str, Any]) -> tuple[QuestionDefinition, dict[str, Any]]:
    """The parsed definition and its normalised JSON (defaults filled in), as stored."""
    parsed = parse_definition(definition)
    return parsed, parsed.model_dump(mode="json")


async def create_question(
    session: AsyncSession, target: QuestionBank, body: QuestionIn, *, by: uuid.UUID
) -> Question:
    """A new question (version 1) in ``target``."""
    count = await session.scalar(
        select(func.count()).select_from(Question).where(Question.bank_id == target.id)
    )
    if (count or 0) >= MAX_QUESTIONS_PER_BANK:
        raise Conflict(f"A bank holds at most {MAX_QUESTIONS_PER_BANK} questions.")
    parsed, stored = checked(body.definition)
    created = Question(
        bank_id=target.id,
        course_id=target.course_id,
        type=parsed.type,
        title=body.title,
        tags=sorted(set(body.tags)),
        version=1,
        definition=stored,
        created_by=by,
    )
    session.add(created)
    await session.flush()
    session.add(
        QuestionVersion(question_id=created.id, version=1, definition=stored, created_by=by)
    )
    return created


async def update_question(
    session: AsyncSession, target: Question, body: QuestionIn, *, by: uuid.UUID
) -> bool:
    """Change a question's title, tags and definition; True when the definition changed
    (a new version was added and submitted attempts must be regraded)."""
    parsed, stored = checked(body.definition)
    if parsed.type != target.type:
        raise InvalidQuestion(
            "A question's type cannot change; add a new question instead.",
            errors=[{"loc": ["definition", "type"], "msg": "type changed", "type": "value"}],
        )
    target.title = body.title
    target.tags = sorted(set(body.tags))
    if stored == target.definition:
        return False
    target.version += 1
    target.definition = stored
    session.add(
        QuestionVersion(
            question_id=target.id, version=target.version, definition=stored, created_by=by
        )
    )
    await session.flush()
    return True


async def versions(
    session: AsyncSession, wanted: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], QuestionDefinition]:
    """The definitions of the given (question, version) pairs, parsed."""
    if not wanted:
        return {}
    ids = {question_id for question_id, _ in wanted}
    rows = await session.scalars(
        select(QuestionVersion).where(QuestionVersion.question_id.in_(ids))
    )
    pairs = set(wanted)
    return {
        (row.question_id, row.version): parse_definition(row.definition)
        for row in rows.all()
        if (row.question_id, row.version) in pairs
    }


async def live_questions(session: AsyncSession, bank_ids: Sequence[uuid.UUID]) -> list[Question]:
    """The questions of ``bank_ids`` a quiz may draw (not archived)."""
    if not bank_ids:
        return []
    rows = await session.scalars(
        select(Question).where(Question.bank_id.in_(bank_ids), Question.archived.is_(False))
    )
    return list(rows.all())
