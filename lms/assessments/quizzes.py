"""Quizzes: settings, slots, accommodations, and the rules read from them (when a quiz may
be started, an attempt's deadline, attempts left, which score is kept, when results and
correct answers may be shown).

Slots are fixed questions or draws from a bank (optionally by tags); every question and bank
named must belong to the quiz's course. A quiz is published only if a draw can be made for
it (``PoolTooSmall`` otherwise), so a learner never meets a quiz that cannot start.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import banks
from lms.assessments.errors import QuizUnavailable
from lms.assessments.questions.pools import Candidate, PoolRule, draw
from lms.assessments.questions.shuffle import permutation
from lms.assessments.schemas import FixedSlot, PoolSlot, QuizIn
from lms.errors import Conflict, InvalidInput, NotFound
from persistence.models import Question, QuestionBank, Quiz, QuizAccommodation, QuizAttempt

MAX_QUIZZES_PER_COURSE = 1_000
MAX_QUESTIONS_PER_ATTEMPT = 500
_FIELDS = (
    "title",
    "instructions",
    "published",
    "time_limit_seconds",
    "max_attempts",
    "keep",
    "available_from",
    "available_until",
    "due_at",
    "shuffle_questions",
    "results_release",
    "answers_release",
)
_NULLABLE = {"time_limit_seconds", "max_attempts", "available_from", "available_until", "due_at"}


async def quiz(session: AsyncSession, quiz_id: uuid.UUID) -> Quiz:
    """A quiz by id, or 404."""
    found = await session.get(Quiz, quiz_id)
    if found is None:
        raise NotFound("No such quiz.")
    return found


async def create_quiz(
    session: AsyncSession, course_id: uuid.UUID, body: QuizIn, *, by: uuid.UUID
) -> Quiz:
    """A new quiz (a draft unless ``published``)."""
    if body.title is None:
        raise InvalidInput("A quiz needs a title.")
    count = await session.scalar(
        select(func.count()).select_from(Quiz).where(Quiz.course_id == course_id)
    )
    if (count or 0) >= MAX_QUIZZES_PER_COURSE:
        raise Conflict(f"A course holds at most {MAX_QUIZZES_PER_COURSE} quizzes.")
    created = Quiz(course_id=course_id, title=body.title, created_by=by, slots=[])
    await apply(session, created, body)
    session.add(created)
    await session.flush()
    return created


async def apply(session: AsyncSession, target: Quiz, body: QuizIn) -> None:
    """Change the fields given in ``body``; slots are checked against the course and a
    published quiz must be drawable."""
    fields = body.model_dump(exclude_unset=True)
    for name in _FIELDS:
        if name in fields and (fields[name] is not None or name in _NULLABLE):
            setattr(target, name, fields[name])
    if body.slots is not None:
        target.slots = await _checked_slots(session, target.course_id, body.slots)
    opens, closes = target.available_from, target.available_until
    if opens and closes and closes <= opens:
        raise InvalidInput("available_until must come after available_from.")
    if target.published:
        await nominal_points(session, target)


async def nominal_points(session: AsyncSession, target: Quiz) -> float:
    """The points of one draw of the quiz (the gradebook column's points possible; pools
    of questions worth different points make attempts differ)."""
    drawn = await draw_questions(session, target, "publish-check")
    return sum(float(q.definition.get("points", 1.0)) for q in drawn)


async def _checked_slots(
    session: AsyncSession, course_id: uuid.UUID, slots: Sequence[FixedSlot | PoolSlot]
) -> list[dict[str, object]]:
    fixed = [s.question_id for s in slots if isinstance(s, FixedSlot)]
    pooled = [s.bank_id for s in slots if isinstance(s, PoolSlot)]
    if len(set(fixed)) != len(fixed):
        raise InvalidInput("A question is given twice in the quiz's slots.")
    if fixed:
        found = await session.scalars(
            select(Question.id).where(
                Question.id.in_(fixed),
                Question.course_id == course_id,
                Question.archived.is_(False),
            )
        )
        if set(found.all()) != set(fixed):
            raise InvalidInput("A slot names no question of this course.")
    if pooled:
        found = await session.scalars(
            select(QuestionBank.id).where(
                QuestionBank.id.in_(pooled), QuestionBank.course_id == course_id
            )
        )
        if set(found.all()) != set(pooled):
            raise InvalidInput("A slot names no question bank of this course.")
    total = sum(s.count if isinstance(s, PoolSlot) else 1 for s in slots)
    if total > MAX_QUESTIONS_PER_ATTEMPT:
        raise InvalidInput(f"A quiz asks at most {MAX_QUESTIONS_PER_ATTEMPT} questions.")
    return [s.model_dump(mode="json") for s in slots]


async def draw_questions(session: AsyncSession, target: Quiz, seed: str) -> list[Question]:
    """The questions an attempt with ``seed`` is given, in the order it shows them: fixed
    slots as placed, pool slots drawn at random (never a question twice), all shuffled when
    the quiz says so."""
    fixed_ids = [uuid.UUID(s["question_id"]) for s in target.slots if "question_id" in s]
    pool_slots = [s for s in target.slots if "bank_id" in s]
    bank_ids = sorted({uuid.UUID(s["bank_id"]) for s in pool_slots})
    pool_questions = await banks.live_questions(session, bank_ids)
    fixed_rows = await session.scalars(select(Question).where(Question.id.in_(fixed_ids)))
    by_id = {q.id: q for q in [*fixed_rows.all(), *pool_questions]}
    if len(fixed_ids) != len([i for i in fixed_ids if i in by_id and not by_id[i].archived]):
        raise Conflict("A question of this quiz was deleted; change the quiz's slots.")
    rules = [
        PoolRule(pool=s["bank_id"], count=int(s["count"]), tags=frozenset(s.get("tags", [])))
        for s in pool_slots
    ]
    candidates = [
        Candidate(str(q.id), str(q.bank_id), frozenset(q.tags))
        for q in pool_questions
        if q.id not in set(fixed_ids)
    ]
    drawn = iter(draw(rules, candidates, seed))
    order: list[uuid.UUID] = []
    for slot in target.slots:
        if "question_id" in slot:
            order.append(uuid.UUID(slot["question_id"]))
        else:
            order.extend(uuid.UUID(next(drawn)) for _ in range(int(slot["count"])))
    if not order:
        raise Conflict("This quiz has no questions yet.")
    if target.shuffle_questions:
        order = [order[i] for i in permutation(seed, "questions", len(order))]
    return [by_id[question_id] for question_id in order]


async def accommodation(
    session: AsyncSession, quiz_id: uuid.UUID, user_id: uuid.UUID
) -> QuizAccommodation | None:
    """A learner's accommodation on a quiz, if any."""
    query = select(QuizAccommodation).where(
        QuizAccommodation.quiz_id == quiz_id, QuizAccommodation.user_id == user_id
    )
    return (await session.scalars(query)).one_or_none()


def deadline(target: Quiz, started: datetime, extra_seconds: int) -> datetime | None:
    """When an attempt started at ``started`` ends: its time limit (plus extra time), and
    never after the quiz closes."""
    ends: datetime | None = None
    if target.time_limit_seconds is not None:
        ends = started + timedelta(seconds=target.time_limit_seconds + extra_seconds)
    if target.available_until is not None:
        ends = target.available_until if ends is None else min(ends, target.available_until)
    return ends


def attempts_allowed(target: Quiz, extra_attempts: int) -> int | None:
    """How many attempts a learner may make (None: unlimited)."""
    if target.max_attempts is None:
        return None
    return target.max_attempts + extra_attempts


def check_open(target: Quiz, now: datetime) -> None:
    """Refuse a start outside the quiz's availability window."""
    if not target.published:
        raise QuizUnavailable("This quiz is not published.")
    if target.available_from is not None and now < target.available_from:
        raise QuizUnavailable("This quiz is not open yet.", opens_at=target.available_from)
    if target.available_until is not None and now >= target.available_until:
        raise QuizUnavailable("This quiz is closed.")


def released(policy: str, target: Quiz, now: datetime) -> bool:
    """Whether a release policy lets learners see, now, what it governs (about a submitted
    attempt): ``immediately``; ``after_due`` once the due date (or the close) has passed;
    ``manual`` once an instructor released the quiz; ``never``."""
    if policy == "immediately":
        return True
    if policy == "after_due":
        moment = target.due_at or target.available_until
        return moment is None or now >= moment
    if policy == "manual":
        return target.released_at is not None
    return False


def kept_score(keep: str, attempts: Sequence[QuizAttempt]) -> float | None:
    """The score that counts: the highest, the latest or the average of the submitted
    attempts' scores (None before any)."""
    done = sorted(
        (a for a in attempts if a.submitted_at is not None and a.score is not None),
        key=lambda a: a.number,
    )
    if not done:
        return None
    scores = [a.score for a in done if a.score is not None]
    if keep == "latest":
        return scores[-1]
    if keep == "average":
        return round(sum(scores) / len(scores), 6)
    return max(scores)
