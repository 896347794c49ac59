"""Recording a learner's progress on an item, and reading it back per learner or course.

Completion follows the item's requirement: `view` (opened), `mark_done` (the learner said
so), `watch` (played share of the video at least `min_watch`, from heartbeats; see
`lms.content.watching`), `submit` (an assessment's submission, set by that domain).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import EventType, emit
from lms.content import watching
from lms.content.events import ITEM_COMPLETED, ITEM_VIEWED, VIDEO_WATCHED, ItemProgressed
from lms.content.schemas import ProgressIn
from lms.errors import InvalidInput
from persistence.models import ItemProgress, ModuleItem

MILESTONES = (0.25, 0.5, 0.75, 1.0)


async def of_learner(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
) -> dict[uuid.UUID, ItemProgress]:
    """A learner's progress rows in a course, by item id."""
    query = select(ItemProgress).where(
        ItemProgress.course_id == course_id, ItemProgress.user_id == user_id
    )
    return {row.item_id: row for row in (await session.scalars(query)).all()}


async def of_learners(
    session: AsyncSession, course_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, ItemProgress]]:
    """Progress rows of several learners in a course: user id -> item id -> row."""
    rows: dict[uuid.UUID, dict[uuid.UUID, ItemProgress]] = {u: {} for u in user_ids}
    if not user_ids:
        return rows
    query = select(ItemProgress).where(
        ItemProgress.course_id == course_id, ItemProgress.user_id.in_(user_ids)
    )
    for row in (await session.scalars(query)).all():
        rows[row.user_id][row.item_id] = row
    return rows


async def _row(session: AsyncSession, item: ModuleItem, user_id: uuid.UUID) -> ItemProgress:
    query = (
        select(ItemProgress)
        .where(ItemProgress.item_id == item.id, ItemProgress.user_id == user_id)
        .with_for_update()
    )
    row = (await session.scalars(query)).one_or_none()
    if row is not None:
        return row
    row = ItemProgress(course_id=item.course_id, item_id=item.id, user_id=user_id, watched=[])
    try:
        async with session.begin_nested():  # two first events at once: one inserts
            session.add(row)
    except IntegrityError:
        return (await session.scalars(query)).one()
    return row


def _met(item: ModuleItem, row: ItemProgress) -> bool:
    if item.requirement == "view":
        return row.viewed_at is not None
    if item.requirement == "watch":
        return row.watched_share + 1e-9 >= item.min_watch
    if item.requirement == "submit":
        return row.submitted_at is not None
    return False  # mark_done: only the learner's own "done"


async def record(
    session: AsyncSession,
    item: ModuleItem,
    user_id: uuid.UUID,
    body: ProgressIn,
    now: datetime,
    *,
    duration: float | None = None,
) -> ItemProgress:
    """Apply one progress event; `duration` is the video's length when the server knows it."""
    row = await _row(session, item, user_id)
    events: list[EventType] = []
    if row.viewed_at is None:
        row.viewed_at = now
        events.append(ITEM_VIEWED)
    if body.event == "heartbeat":
        if item.kind != "video":
            raise InvalidInput("Heartbeats are for video items.")
        before = row.watched_share
        _heartbeat(row, body, now, duration)
        if any(before < mark <= row.watched_share for mark in MILESTONES):
            events.append(VIDEO_WATCHED)
    if row.completed_at is None and (body.event == "done" or _met(item, row)):
        if body.event == "done" and item.requirement != "mark_done" and not _met(item, row):
            raise InvalidInput("This item is completed by its requirement, not marked done.")
        row.completed_at = now
        events.append(ITEM_COMPLETED)
    row.updated_at = now
    for event_type in events:
        await _emit(session, event_type, item, row, user_id, now)
    return row


def _heartbeat(row: ItemProgress, body: ProgressIn, now: datetime, duration: float | None) -> None:
    if duration is None:
        raise InvalidInput("This item has no video to watch.")
    row.duration = duration
    known = watching.Coverage(
        watching.merge((float(s), float(e)) for s, e in row.watched), duration
    )
    elapsed = (now - row.updated_at).total_seconds() if row.watched else None
    played = [(pair[0], pair[1]) for pair in body.played]
    coverage = watching.add(known, played, elapsed=elapsed)
    row.watched = [[round(s, 3), round(e, 3)] for s, e in coverage.intervals]
    row.watched_share = coverage.share
    if body.position is not None:
        row.position = min(body.position, duration)


async def mark_submitted(
    session: AsyncSession, kind: str, target_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> None:
    """A learner handed in the assessment that items of ``kind`` show (an assignment, a
    quiz): each such item counts as submitted, and completed when it requires that."""
    shown = await session.scalars(
        select(ModuleItem).where(ModuleItem.kind == kind, ModuleItem.target_id == target_id)
    )
    for item in shown.all():
        row = await _row(session, item, user_id)
        if row.submitted_at is None:
            row.submitted_at = now
        row.updated_at = now
        if row.completed_at is None and _met(item, row):
            row.completed_at = now
            await _emit(session, ITEM_COMPLETED, item, row, user_id, now)


async def _emit(
    session: AsyncSession,
    event_type: EventType,
    item: ModuleItem,
    row: ItemProgress,
    user_id: uuid.UUID,
    now: datetime,
) -> None:
    """Emit ``event_type`` on a learner's progress on ``item``, as ``row`` stands now."""
    payload = ItemProgressed(
        item_id=item.id,
        course_id=item.course_id,
        user_id=user_id,
        kind=item.kind,
        watched_share=row.watched_share,
        at=now,
    )
    await emit(session, event_type, payload, aggregate_id=f"{item.course_id}:{user_id}")
