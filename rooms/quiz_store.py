"""Live quizzes in the database: the projections of the quiz events, the quizzes a node
loads with a room, and the scores sent to the gradebook (``live_quiz.graded``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from persistence.models import LiveQuiz, LiveQuizAnswer
from rooms.domain_events import LIVE_QUIZ_GRADED, LiveQuizGraded, LiveQuizScore
from rooms.projections import event_time, insert_for, uuid_or_none
from rooms.quiz_rules import rules
from rooms.quiz_state import MAX_QUIZZES, QuestionTally
from rooms.quiz_state import LiveQuiz as QuizState
from rooms.quizzes import seed_of
from rooms.state import Event, RoomState


async def launched(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``quiz.launched``: the quiz row, with the keys the event keeps private."""
    quiz = event["quiz"]
    closes_at = quiz["closes_at"]
    session.add(
        LiveQuiz(
            id=uuid.UUID(quiz["id"]),
            room_id=room,
            created_by=uuid_or_none(quiz["created_by"]),
            title=quiz["title"],
            points=float(quiz["points"]),
            questions=quiz["questions"],
            keys=event.get("_keys") or {},
            launched_at=event_time(event),
            closes_at=datetime.fromisoformat(closes_at) if closes_at else None,
        )
    )
    return True


async def answered(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``quiz.answered``: one answer row; a second answer to the same question is refused."""
    statement = insert_for(session, LiveQuizAnswer).values(
        id=uuid.uuid4(),
        quiz_id=uuid.UUID(event["quiz_id"]),
        user_id=uuid.UUID(event["by"]),
        question_id=event["question_id"],
        response=event.get("_response") or event["response"],
        picks=list(event.get("_picks") or []),
        credit=float(event.get("_credit") or 0.0),
        at=event_time(event),
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["quiz_id", "user_id", "question_id"])
    )
    return bool(getattr(result, "rowcount", 1))


async def changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``quiz.closed`` and ``quiz.revealed``."""
    values: dict[str, Any] = {"status": "closed"}
    if event["type"] == "quiz.revealed":
        values["revealed"] = True
    else:
        values["closed_at"] = event_time(event)
    await session.execute(
        update(LiveQuiz)
        .where(LiveQuiz.id == uuid.UUID(event["quiz_id"]), LiveQuiz.room_id == room)
        .values(**values)
    )
    return True


async def graded(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``quiz.graded``: the scores from the stored answers, to the gradebook's consumer."""
    quiz = await session.get(LiveQuiz, uuid.UUID(event["quiz_id"]))
    if quiz is None or quiz.room_id != room:
        return False
    at = event_time(event)
    quiz.graded_at = at
    rows = await session.execute(
        select(LiveQuizAnswer.user_id, LiveQuizAnswer.credit).where(
            LiveQuizAnswer.quiz_id == quiz.id
        )
    )
    credits: dict[uuid.UUID, list[float]] = defaultdict(list)
    for user_id, credit in rows:
        credits[user_id].append(credit)
    count = max(len(quiz.questions), 1)
    scores = [
        LiveQuizScore(
            user_id=user_id,
            score=round(quiz.points * sum(found) / count, 2),
            answered=len(found),
        )
        for user_id, found in sorted(credits.items())
    ]
    payload = LiveQuizGraded(
        quiz_id=quiz.id,
        room_id=room,
        course_id=uuid.UUID(event["_course_id"]),
        title=quiz.title,
        points=quiz.points,
        graded_by=uuid_or_none(event.get("by")),
        graded_at=at,
        scores=scores,
    )
    await emit(session, LIVE_QUIZ_GRADED, payload, aggregate_id=room, occurred_at=at)
    return True


async def load_quizzes(session: AsyncSession, state: RoomState) -> None:
    """The room's newest quizzes with their answers and tallies, into ``state``."""
    rows = await session.execute(
        select(LiveQuiz)
        .where(LiveQuiz.room_id == uuid.UUID(state.room_id))
        .order_by(LiveQuiz.launched_at.desc())
        .limit(MAX_QUIZZES)
    )
    quizzes = list(reversed(list(rows.scalars())))
    for row in quizzes:
        state.quizzes.add(_state_of(row))
    if not quizzes:
        return
    answers = await session.execute(
        select(LiveQuizAnswer)
        .where(LiveQuizAnswer.quiz_id.in_([row.id for row in quizzes]))
        .order_by(LiveQuizAnswer.at)
    )
    for answer in answers.scalars():
        quiz = state.quizzes.quizzes[str(answer.quiz_id)]
        user = str(answer.user_id)
        key = quiz.keys.get(answer.question_id)
        shown = answer.response
        if key is not None:
            shown = rules().shown(key, seed_of(quiz.id, answer.question_id), answer.response)
        quiz.answers.setdefault(user, {})[answer.question_id] = shown
        quiz.credits.setdefault(user, {})[answer.question_id] = answer.credit
        quiz.tallies.setdefault(answer.question_id, QuestionTally()).count(
            answer.credit, list(answer.picks)
        )


def _state_of(row: LiveQuiz) -> QuizState:
    return QuizState(
        id=str(row.id),
        title=row.title,
        points=row.points,
        questions=list(row.questions),
        created_by=str(row.created_by) if row.created_by else "",
        launched_at=row.launched_at.isoformat(),
        closes_at=row.closes_at.isoformat() if row.closes_at else None,
        status=row.status,
        revealed=row.revealed,
        graded=row.graded_at is not None,
        keys=dict(row.keys),
    )
