"""Grading an assignment: the graders' list of learners (keys, labels, states), one
learner's submissions and grade, grading by rubric or score with the late policy applied
once, group grades with per-student overrides, comments, revealing names, posting. Every
grade goes to the gradebook (``record_score``, in the same transaction).

While an assignment is anonymous nothing here hands a grader a user id or a name: learners
are keys (``anonymity.learner_key``) labelled "Student N".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.assignments import anonymity, late, rubrics, service, submissions
from lms.assignments.errors import InvalidRubric
from lms.assignments.events import GRADED, GRADES_POSTED, Graded, GradesPosted
from lms.assignments.schemas import (
    CommentIn,
    CommentOut,
    GradeIn,
    GradeOut,
    GradingEntry,
    GradingState,
)
from lms.errors import InvalidInput, NotFound
from lms.gradebook import service as gradebook
from persistence.models import (
    Assignment,
    Extension,
    Grade,
    GroupMember,
    Rubric,
    Submission,
    SubmissionComment,
)


def hidden(row: Assignment) -> bool:
    """Whether graders see learners anonymously now."""
    return row.anonymous and row.names_revealed_at is None


@dataclass(frozen=True, slots=True)
class Learner:
    """A learner of an assignment as the grading code keeps them (never sent as is)."""

    key: str
    user_id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    due_at: datetime | None
    latest: Submission | None
    versions: int
    grade: Grade | None


async def learners(session: AsyncSession, row: Assignment, secret: str) -> list[Learner]:
    """Every student of the course on this assignment, in the list's order: by name, or
    by anonymous label while hidden."""
    students = await service.students_of(session, row.course_id)
    groups: dict[uuid.UUID, uuid.UUID] = {}
    if row.group_set_id is not None:
        found = await session.execute(
            select(GroupMember.user_id, GroupMember.group_id).where(
                GroupMember.group_set_id == row.group_set_id
            )
        )
        groups = dict(found.tuples().all())
    extensions = {
        e.user_id: e
        for e in (
            await session.scalars(select(Extension).where(Extension.assignment_id == row.id))
        ).all()
    }
    latest: dict[uuid.UUID, Submission] = {}
    counts: dict[uuid.UUID, int] = {}
    every = await session.scalars(
        select(Submission).where(Submission.assignment_id == row.id).order_by(Submission.version)
    )
    for sub in every.all():
        latest[sub.owner_id] = sub
        counts[sub.owner_id] = counts.get(sub.owner_id, 0) + 1
    grades = {
        g.user_id: g
        for g in (await session.scalars(select(Grade).where(Grade.assignment_id == row.id))).all()
    }
    made: list[Learner] = []
    for user_id, name in students:
        owner = groups.get(user_id, user_id)
        extension = extensions.get(user_id)
        due = (extension.due_at if extension else None) or row.due_at
        made.append(
            Learner(
                key=anonymity.learner_key(secret, row.id, user_id),
                user_id=user_id,
                name=name,
                owner_id=owner,
                due_at=due,
                latest=latest.get(owner),
                versions=counts.get(owner, 0),
                grade=grades.get(user_id),
            )
        )
    if hidden(row):
        made.sort(key=lambda learner: learner.key)
    return made


def _state(learner: Learner, now: datetime) -> GradingState:
    if learner.grade is not None and learner.grade.score is not None:
        return "graded"
    if learner.latest is not None:
        return "submitted"
    if learner.due_at is not None and learner.due_at < now:
        return "missing"
    return "not_due"


def entries(row: Assignment, found: Sequence[Learner], now: datetime) -> list[GradingEntry]:
    """The list's entries; identities left out while anonymous."""
    anonymous = hidden(row)
    labels = anonymity.labels([learner.key for learner in found]) if anonymous else {}
    return [
        GradingEntry(
            key=learner.key,
            label=labels[learner.key] if anonymous else learner.name,
            user_id=None if anonymous else learner.user_id,
            name=None if anonymous else learner.name,
            state=_state(learner, now),
            late=learner.latest is not None
            and learner.due_at is not None
            and learner.latest.submitted_at > learner.due_at,
            submitted_at=learner.latest.submitted_at if learner.latest else None,
            versions=learner.versions,
            score=learner.grade.score if learner.grade else None,
        )
        for learner in found
    ]


def find(found: Sequence[Learner], key: str) -> Learner:
    """The learner with this key, or 404."""
    for learner in found:
        if learner.key == key:
            return learner
    raise NotFound("No such learner on this assignment.")


def grade_out(row: Grade) -> GradeOut:
    """A grade as a body."""
    return GradeOut(
        rubric={str(k): str(v) for k, v in row.rubric.items()},
        raw_score=row.raw_score,
        late_days=row.late_days,
        late_deduction=row.late_deduction,
        score=row.score,
        submission_id=row.submission_id,
        graded_at=row.graded_at,
        posted=row.posted_at is not None,
        individual=bool(row.individual),
    )


async def _rubric(session: AsyncSession, row: Assignment) -> Rubric | None:
    return await session.get(Rubric, row.rubric_id) if row.rubric_id else None


async def grade(
    session: AsyncSession,
    row: Assignment,
    found: Sequence[Learner],
    learner: Learner,
    body: GradeIn,
    *,
    by: uuid.UUID,
    now: datetime,
) -> list[Grade]:
    """Grade a learner (and, on a group assignment with ``whole_group``, every member of
    their group): rubric levels and/or a score; the late deduction computed now, stored."""
    rubric = await _rubric(session, row)
    if body.rubric and rubric is None:
        raise InvalidRubric("This assignment has no rubric to grade by.")
    if body.score is not None:
        raw = body.score
    elif body.rubric and rubric is not None:
        raw = rubrics.score(rubrics.criteria_of(rubric.criteria), dict(body.rubric))
    else:
        raise InvalidInput("Give rubric levels or a score.")
    if body.rubric and rubric is not None:
        rubrics.score(rubrics.criteria_of(rubric.criteria), dict(body.rubric))  # validates
    graded = learner.latest
    if body.submission_id is not None:
        versions = await submissions.history(session, row.id, learner.owner_id)
        graded = next((s for s in versions if s.id == body.submission_id), None)
        if graded is None:
            raise InvalidInput("submission_id is not one of this learner's versions.")
    group = row.group_set_id is not None and learner.owner_id != learner.user_id
    targets = [learner]
    if group and body.whole_group:
        targets = [x for x in found if x.owner_id == learner.owner_id]
    column_id = await gradebook.ensure_column(
        session,
        course_id=row.course_id,
        source="assignment",
        source_id=row.id,
        title=row.title,
        points_possible=row.points,
        due_at=row.due_at,
    )
    made: list[Grade] = []
    for target in targets:
        days = late.days_late(graded.submitted_at if graded else None, target.due_at)
        result = late.apply(
            raw,
            points=row.points,
            days=days,
            per_day=row.late_per_day,
            cap=row.late_cap,
            floor=row.late_floor,
        )
        existing = target.grade
        await gradebook.record_score(
            session,
            column_id=column_id,
            user_id=target.user_id,
            score=result.score,
            actor_id=by,
            reason="graded" if existing is None else "regraded",
            submitted_at=graded.submitted_at if graded else None,
            late=result.days > 0,
            missing=graded is None,
            late_deduction=result.deduction,
        )
        if existing is None:
            existing = Grade(assignment_id=row.id, user_id=target.user_id)
            session.add(existing)
        existing.submission_id = graded.id if graded else None
        existing.rubric = dict(body.rubric)
        existing.raw_score = raw
        existing.late_days = result.days
        existing.late_deduction = result.deduction
        existing.score = result.score
        existing.individual = group and not body.whole_group
        existing.graded_by = by
        existing.graded_at = now
        made.append(existing)
        payload = Graded(
            assignment_id=row.id,
            course_id=row.course_id,
            user_id=target.user_id,
            score=result.score,
            graded_at=now,
        )
        await emit(session, GRADED, payload, aggregate_id=row.id)
    regraded = sorted(g.user_id for g in made if g.posted_at is not None)
    if regraded:
        # Already posted: the new score is visible here at once, so it is posted again
        # (the gradebook posts its cell on this event, as it did the first time).
        shown = GradesPosted(
            assignment_id=row.id, course_id=row.course_id, user_ids=regraded, posted_at=now
        )
        await emit(session, GRADES_POSTED, shown, aggregate_id=row.id)
    await session.flush()
    return made


async def post(session: AsyncSession, row: Assignment, now: datetime) -> list[uuid.UUID]:
    """Post every grade not yet posted: students see grade, rubric and comments."""
    query = select(Grade).where(Grade.assignment_id == row.id, Grade.posted_at.is_(None))
    posted = list((await session.scalars(query)).all())
    for found in posted:
        found.posted_at = now
    users = sorted(g.user_id for g in posted)
    if users:
        payload = GradesPosted(
            assignment_id=row.id, course_id=row.course_id, user_ids=users, posted_at=now
        )
        await emit(session, GRADES_POSTED, payload, aggregate_id=row.id)
    return users


async def comment(
    session: AsyncSession, sub: Submission, body: CommentIn, *, by: uuid.UUID
) -> SubmissionComment:
    """A comment on a character range of a text submission's source, or general."""
    if (body.start is None) != (body.end is None):
        raise InvalidInput("Give both start and end, or neither.")
    if body.start is not None and body.end is not None:
        text = sub.body_markdown or ""
        if not text:
            raise InvalidInput("Only text submissions take anchored comments.")
        if not 0 <= body.start < body.end <= len(text):
            raise InvalidInput(f"The range must lie within the text (0..{len(text)}).")
    made = SubmissionComment(
        submission_id=sub.id, author_id=by, start=body.start, end=body.end, body=body.body
    )
    session.add(made)
    await session.flush()
    return made


def comment_out(row: SubmissionComment) -> CommentOut:
    """A comment as a body."""
    return CommentOut(
        id=row.id,
        submission_id=row.submission_id,
        start=row.start,
        end=row.end,
        body=row.body,
        created_at=row.created_at,
    )


async def grade_of(
    session: AsyncSession, assignment_id: uuid.UUID, user_id: uuid.UUID
) -> Grade | None:
    """A learner's grade on an assignment, if any."""
    query = select(Grade).where(Grade.assignment_id == assignment_id, Grade.user_id == user_id)
    return (await session.scalars(query)).one_or_none()


async def comments_on(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[CommentOut]:
    """The comments on these submissions, oldest first."""
    if not ids:
        return []
    query = (
        select(SubmissionComment)
        .where(SubmissionComment.submission_id.in_(ids))
        .order_by(SubmissionComment.created_at, SubmissionComment.id)
    )
    return [comment_out(c) for c in (await session.scalars(query)).all()]
