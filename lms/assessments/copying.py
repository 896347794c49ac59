"""Course copy, the assessments' part: a course's question banks with their questions (each
at its current definition, as version 1 of the copy) and its quizzes, their slots pointing
at the copied questions and banks. Attempts, answers, accommodations (people's) and a
quiz's release moment are never copied."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Question, QuestionBank, QuestionVersion, Quiz
from persistence.models.base import copy_of


def _slot(slot: dict[str, Any], ids: dict[uuid.UUID, uuid.UUID]) -> dict[str, Any] | None:
    """A slot naming the copies (None: its question or bank is not in the course)."""
    key = "question_id" if "question_id" in slot else "bank_id"
    new = ids.get(uuid.UUID(str(slot[key])))
    return None if new is None else {**slot, key: str(new)}


async def copy_assessments(
    session: AsyncSession, source_id: uuid.UUID, target_id: uuid.UUID, *, by: uuid.UUID
) -> dict[uuid.UUID, uuid.UUID]:
    """Copy the banks, questions and quizzes of course ``source_id`` into ``target_id``;
    the copied quizzes' ids, old to new."""
    ids: dict[uuid.UUID, uuid.UUID] = {}  # banks and questions, old to new
    banks = await session.scalars(
        select(QuestionBank).where(QuestionBank.course_id == source_id).order_by(QuestionBank.id)
    )
    for bank in banks.all():
        new_bank = copy_of(bank, course_id=target_id, created_by=by)
        session.add(new_bank)
        await session.flush()
        ids[bank.id] = new_bank.id
    questions = await session.scalars(
        select(Question).where(Question.course_id == source_id).order_by(Question.id)
    )
    for question in questions.all():
        new_question = copy_of(
            question, course_id=target_id, bank_id=ids[question.bank_id], version=1, created_by=by
        )
        session.add(new_question)
        await session.flush()
        session.add(
            QuestionVersion(
                question_id=new_question.id,
                version=1,
                definition=question.definition,
                created_by=by,
            )
        )
        ids[question.id] = new_question.id
    quizzes: dict[uuid.UUID, uuid.UUID] = {}
    found = await session.scalars(select(Quiz).where(Quiz.course_id == source_id).order_by(Quiz.id))
    for quiz in found.all():
        slots = [s for s in (_slot(slot, ids) for slot in quiz.slots) if s is not None]
        new_quiz = copy_of(quiz, course_id=target_id, slots=slots, released_at=None, created_by=by)
        session.add(new_quiz)
        await session.flush()
        quizzes[quiz.id] = new_quiz.id
    return quizzes
