"""The gradebook's interface for the other assessment domains (ensure_column, column_for,
record_score) on a live node's SQLite and PostgreSQL database: columns are idempotent per
gradable thing, scores are stored to the cent, every change (and only a change) writes a
history row and an audit record, concurrent graders of one cell both land in order, and a
manual-policy column never releases a score by itself."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from gradebook_kit import Course
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kits.nodes import Node, node_sessions
from lms.errors import NotFound
from lms.gradebook import history, service
from lms.gradebook.errors import InvalidScore
from persistence.models import AuditEvent, DomainEvent, GradeColumn, GradeScore

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


@pytest.fixture
async def sessions(course: Course) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with node_sessions(course.node) as made:
        yield made


async def _column(
    sessions: async_sessionmaker[AsyncSession], course: Course, points: str = "10"
) -> uuid.UUID:
    async with sessions() as session:
        column_id = await service.ensure_column(
            session,
            course_id=course.course_id,
            source="quiz",
            source_id=uuid.uuid4(),
            title="Quiz",
            points_possible=Decimal(points),
        )
        await session.commit()
    return column_id


async def test_a_column_is_idempotent_per_gradable_thing(
    course: Course, sessions: async_sessionmaker[AsyncSession]
) -> None:
    quiz = uuid.uuid4()
    async with sessions() as session:
        assert await service.column_for(session, source="quiz", source_id=quiz) is None
        first = await service.ensure_column(
            session,
            course_id=course.course_id,
            source="quiz",
            source_id=quiz,
            title="Quiz 1",
            points_possible=Decimal(10),
        )
        await session.commit()
    async with sessions() as session:
        again = await service.ensure_column(
            session,
            course_id=course.course_id,
            source="quiz",
            source_id=quiz,
            title="Quiz 1 (revised)",
            points_possible=Decimal("12.5"),
        )
        await session.commit()
        assert again == first
        assert await service.column_for(session, source="quiz", source_id=quiz) == first
        # The same id under another source is another gradable thing.
        assert await service.column_for(session, source="assignment", source_id=quiz) is None
        column = await session.get_one(GradeColumn, first)
        assert (column.title, column.points_possible) == ("Quiz 1 (revised)", Decimal("12.50"))
        assert column.group_id is not None  # the course's default group


async def test_every_change_and_only_a_change_is_in_the_history(
    course: Course, sessions: async_sessionmaker[AsyncSession]
) -> None:
    column_id = await _column(sessions, course)
    learner = course.student_ids[0]

    async def record(score: Decimal | None, reason: str, **flags: bool) -> None:
        async with sessions() as session:
            await service.record_score(
                session,
                column_id=column_id,
                user_id=learner,
                score=score,
                actor_id=course.teacher_id,
                reason=reason,
                **flags,
            )
            await session.commit()

    await record(Decimal("8.125"), "auto-graded")  # rounded half up to the cent
    await record(Decimal("8.13"), "auto-graded")  # the same score: nothing to record
    await record(Decimal("8.13"), "manual grading", late=True)  # a flag changed
    await record(Decimal(6), "regrade: key changed", late=True)
    await record(None, "cleared")
    async with sessions() as session:
        page = await history.changes(session, course.course_id, column_id=column_id)
        got = [(c.kind, c.old["score"], c.new["score"], c.reason) for c in reversed(page.items)]
        assert got == [
            ("score", None, "8.13", "auto-graded"),
            ("flags", "8.13", "8.13", "manual grading"),
            ("score", "8.13", "6.00", "regrade: key changed"),
            ("score", "6.00", None, "cleared"),
        ]
        assert [c.new["late"] for c in reversed(page.items)] == [False, True, True, False]
        assert {c.actor_id for c in page.items} == {course.teacher_id}
        assert {c.student_id for c in page.items} == {learner}
        audited = await session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.target_id == f"{column_id}:{learner}")
        )
        assert audited.scalar_one() == 4
        # Paging: two at a time, newest first, then the rest.
        first = await history.changes(session, course.course_id, column_id=column_id, limit=2)
        assert first.next_before is not None
        rest = await history.changes(
            session, course.course_id, column_id=column_id, before=first.next_before
        )
        assert [c.id for c in first.items + rest.items] == [c.id for c in page.items]
        assert rest.next_before is None


async def test_scores_that_cannot_be_stored_are_refused(
    course: Course, sessions: async_sessionmaker[AsyncSession]
) -> None:
    column_id = await _column(sessions, course)
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("1e9")):
        async with sessions() as session:
            with pytest.raises(InvalidScore):
                await service.record_score(
                    session,
                    column_id=column_id,
                    user_id=course.student_ids[0],
                    score=bad,
                    actor_id=None,
                    reason="auto-graded",
                )
    async with sessions() as session:
        with pytest.raises(NotFound):
            await service.record_score(
                session,
                column_id=uuid.uuid4(),
                user_id=course.student_ids[0],
                score=Decimal(1),
                actor_id=None,
                reason="auto-graded",
            )
        with pytest.raises(InvalidScore):
            await service.ensure_column(
                session,
                course_id=course.course_id,
                source="assignment",
                source_id=uuid.uuid4(),
                title="Essay",
                points_possible=Decimal(-1),
            )


async def test_concurrent_graders_of_one_cell_both_land_in_order(
    course: Course, sessions: async_sessionmaker[AsyncSession]
) -> None:
    column_id = await _column(sessions, course)
    learner = course.student_ids[1]

    async def grade(score: int) -> None:
        async with sessions() as session:
            await service.record_score(
                session,
                column_id=column_id,
                user_id=learner,
                score=Decimal(score),
                actor_id=None,
                reason=f"grader {score}",
            )
            await session.commit()

    await asyncio.gather(*(grade(n) for n in range(1, 7)))
    async with sessions() as session:
        page = await history.changes(session, course.course_id, column_id=column_id)
        chain = list(reversed(page.items))
        assert len(chain) == 6
        # Each change starts from the value the previous one left: no lost update.
        assert chain[0].old["score"] is None
        for before, after in itertools.pairwise(chain):
            assert after.old["score"] == before.new["score"]
        row = (
            await session.execute(select(GradeScore).where(GradeScore.column_id == column_id))
        ).scalar_one()
        assert str(row.score) == chain[-1].new["score"]


async def test_posting_policy_decides_whether_a_score_is_released(
    course: Course, sessions: async_sessionmaker[AsyncSession]
) -> None:
    automatic = await _column(sessions, course)
    manual = await _column(sessions, course)
    async with sessions() as session:
        (await session.get_one(GradeColumn, manual)).post_policy = "manual"
        await session.commit()
    learner = course.student_ids[2]
    for column_id in (automatic, manual):
        async with sessions() as session:
            await service.record_score(
                session,
                column_id=column_id,
                user_id=learner,
                score=Decimal(7),
                actor_id=None,
                reason="auto-graded",
            )
            await session.commit()
    async with sessions() as session:
        rows = {
            r.column_id: r
            for r in (
                await session.execute(select(GradeScore).where(GradeScore.user_id == learner))
            ).scalars()
        }
        assert rows[automatic].posted_at is not None
        assert rows[manual].posted_at is None
        posted = await session.execute(
            select(DomainEvent.aggregate_id).where(DomainEvent.type == "gradebook.grades_posted")
        )
        aggregates = set(posted.scalars())
        assert str(automatic) in aggregates and str(manual) not in aggregates
