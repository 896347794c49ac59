"""Each workshop session's live room: opened at its start, attendance written back at its end.

Scheduling a workshop enqueues two durable jobs per session: ``open_session`` at its start
creates the session's room with the organiser as its host and invites every seat holder as
a participant; at its end ``workshops.close_session`` (``lms.workshops.closing``: warn the
people still in the room, end it after a grace period) calls ``close_session``, which reads
the room's attendance (the rooms domain records each stay) and writes back, per seat
holder, whether they came and for how many minutes (stays clipped to the session's time),
then emits ``workshops.attendance_recorded``.
The organiser ending the room earlier closes the session the same way (a consumer of
``room.ended``). Closing is idempotent: the first close records, later ones do nothing.

Joining goes through ``join``: seat holders (and the organiser or an admin) get the room;
the waitlisted, the unconfirmed and strangers are refused with a reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import PermanentFailure
from jobs.events import Consumer, Event, emit
from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.errors import Conflict, Forbidden, NotFound
from lms.rooms import service as rooms
from lms.workshops.events import ATTENDANCE_RECORDED, AttendanceRecorded, SessionAttendee
from persistence.models import (
    User,
    Workshop,
    WorkshopAttendance,
    WorkshopOccurrence,
    WorkshopRegistration,
)
from persistence.models.base import utcnow
from rooms.domain_events import ROOM_ENDED, RoomEnded


async def schedule_rooms(session: AsyncSession, sessions: list[WorkshopOccurrence]) -> None:
    """Enqueue the opening and the closing of each session's room (flushed rows)."""
    for one in sessions:
        args = {"occurrence_id": one.id}
        await enqueue(session, OPEN_SESSION, args, run_at=one.starts_at)
        await enqueue(session, CLOSE_SESSION, args, run_at=one.ends_at)


async def locked(session: AsyncSession, occurrence_id: int) -> WorkshopOccurrence | None:
    """The session, locked for this transaction (None if there is none)."""
    query = (
        select(WorkshopOccurrence)
        .where(WorkshopOccurrence.id == occurrence_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _seat_holders(
    session: AsyncSession, workshop_id: uuid.UUID
) -> list[WorkshopRegistration]:
    rows = await session.execute(
        select(WorkshopRegistration)
        .where(
            WorkshopRegistration.workshop_id == workshop_id,
            WorkshopRegistration.status == "registered",
        )
        .order_by(WorkshopRegistration.arrival)
    )
    return list(rows.scalars())


async def open_session(
    session: AsyncSession, occurrence_id: int, now: datetime
) -> uuid.UUID | None:
    """Open the session's room (once) and admit its seat holders; the room, or None when
    the workshop was cancelled, has no organiser left or the session is over."""
    occurrence = await locked(session, occurrence_id)
    if occurrence is None or occurrence.closed_at is not None:
        return None
    if occurrence.room_id is not None:
        return occurrence.room_id
    workshop = await session.get(Workshop, occurrence.workshop_id)
    if workshop is None or workshop.status != "scheduled" or workshop.organiser_id is None:
        return None
    if now >= occurrence.ends_at:
        return None
    title = workshop.title if occurrence.number == 1 else f"{workshop.title} ({occurrence.number})"
    room = await rooms.create_room(session, title=title[:200], created_by=workshop.organiser_id)
    occurrence.room_id, occurrence.opened_at = room.id, now
    holders = await _seat_holders(session, workshop.id)
    await rooms.invite_participants(session, room.id, [r.user_id for r in holders])
    await session.flush()
    return room.id


@dataclass(frozen=True, slots=True)
class Tally:
    """One seat holder's attendance at a session."""

    registration: WorkshopRegistration
    seconds: int

    @property
    def attended(self) -> bool:
        return self.seconds > 0


async def tally(
    session: AsyncSession, occurrence: WorkshopOccurrence, until: datetime
) -> list[Tally]:
    """Each seat holder's time in the session's room between its start and ``until``
    (capped at the session's end), in arrival order."""
    holders = await _seat_holders(session, occurrence.workshop_id)
    stop = min(until, occurrence.ends_at)
    seconds: dict[uuid.UUID, float] = {}
    if occurrence.room_id is not None:
        for user, joined, left in await rooms.stays(session, occurrence.room_id):
            if joined >= stop:
                continue
            start, end = max(joined, occurrence.starts_at), min(left or stop, stop)
            seconds[user] = seconds.get(user, 0.0) + max(0.0, (end - start).total_seconds())
    return [
        Tally(r, max(1, int(seconds[r.user_id])) if r.user_id in seconds else 0) for r in holders
    ]


async def close_session(session: AsyncSession, occurrence_id: int, now: datetime) -> bool:
    """Write back the session's attendance (once); whether this call recorded it."""
    occurrence = await locked(session, occurrence_id)
    if occurrence is None or occurrence.closed_at is not None:
        return False
    workshop = await session.get(Workshop, occurrence.workshop_id)
    occurrence.closed_at = now
    if workshop is None or workshop.status != "scheduled":
        await session.flush()
        return False
    counted = await tally(session, occurrence, now)
    for one in counted:
        session.add(
            WorkshopAttendance(
                occurrence_id=occurrence.id,
                registration_id=one.registration.id,
                user_id=one.registration.user_id,
                attended=one.attended,
                seconds=one.seconds,
                recorded_at=now,
            )
        )
    payload = AttendanceRecorded(
        workshop_id=workshop.id,
        session=occurrence.number,
        room_id=occurrence.room_id,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        closed_at=now,
        attendees=[
            SessionAttendee(
                user_id=t.registration.user_id,
                registration_id=t.registration.id,
                attended=t.attended,
                minutes=t.seconds // 60,
            )
            for t in counted
        ],
    )
    await emit(session, ATTENDANCE_RECORDED, payload, aggregate_id=workshop.id, occurred_at=now)
    await session.flush()
    return True


async def occurrence_of(
    session: AsyncSession, workshop_id: uuid.UUID, number: int
) -> WorkshopOccurrence:
    """The workshop's session ``number``; 404 if none."""
    found = (
        await session.execute(
            select(WorkshopOccurrence).where(
                WorkshopOccurrence.workshop_id == workshop_id, WorkshopOccurrence.number == number
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such session.")
    return found


async def join(
    session: AsyncSession,
    workshop: Workshop,
    number: int,
    user_id: uuid.UUID,
    manages: bool,
) -> WorkshopOccurrence:
    """The session whose room the caller may enter now (seat holders are admitted to it);
    403 with a reason for the waitlisted, the unconfirmed and strangers, 409 when the room
    is not open or the session is over."""
    occurrence = await occurrence_of(session, workshop.id, number)
    if workshop.status != "scheduled":
        raise Conflict("This workshop was cancelled.", reason="cancelled")
    if not manages:
        mine = (
            await session.execute(
                select(WorkshopRegistration).where(
                    WorkshopRegistration.workshop_id == workshop.id,
                    WorkshopRegistration.user_id == user_id,
                )
            )
        ).scalar_one_or_none()
        await _check_seat(session, mine)
    if occurrence.closed_at is not None:
        raise Conflict("This session has ended.", reason="ended")
    if occurrence.room_id is None:
        raise Conflict(
            "The room opens when the session starts.",
            reason="not_open",
            starts_at=occurrence.starts_at.isoformat(),
        )
    if not manages:
        await rooms.invite_participants(session, occurrence.room_id, [user_id])
    return occurrence


async def _check_seat(session: AsyncSession, mine: WorkshopRegistration | None) -> None:
    if mine is None or mine.status in ("cancelled", "expired"):
        raise Forbidden(
            "Only people with a seat in this workshop may join its sessions.",
            reason="not_registered",
        )
    if mine.status == "waitlisted":
        ahead = await session.scalar(
            select(func.count()).where(
                WorkshopRegistration.workshop_id == mine.workshop_id,
                WorkshopRegistration.status == "waitlisted",
                WorkshopRegistration.arrival < mine.arrival,
            )
        )
        raise Forbidden(
            "You are on the waitlist: only seat holders may join the sessions.",
            reason="waitlisted",
            waitlist_position=(ahead or 0) + 1,
        )
    if mine.status == "offered":
        raise Forbidden("Confirm the seat offered to you first, then join.", reason="unconfirmed")


async def recorded(
    session: AsyncSession, occurrence: WorkshopOccurrence
) -> list[tuple[WorkshopAttendance, int, str]]:
    """The attendance written back for the session, with each registration's arrival and
    the learner's name, in arrival order."""
    rows = await session.execute(
        select(WorkshopAttendance, WorkshopRegistration.arrival, User.name)
        .join(WorkshopRegistration, WorkshopRegistration.id == WorkshopAttendance.registration_id)
        .join(User, User.id == WorkshopAttendance.user_id)
        .where(WorkshopAttendance.occurrence_id == occurrence.id)
        .order_by(WorkshopRegistration.arrival)
    )
    return [(a, arrival, name) for a, arrival, name in rows.tuples()]


async def names(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The display names of ``user_ids``."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
    return {user: name for user, name in rows.tuples()}


async def _open_job(ctx: JobContext) -> None:
    async with ctx.sessions() as session:
        await open_session(session, int(ctx.args["occurrence_id"]), utcnow())
        await session.commit()


async def _declared(ctx: JobContext) -> None:  # pragma: no cover - replaced by closing
    raise PermanentFailure(f"{ctx.name} has no handler in this process")


OPEN_SESSION = JobType(
    "workshops.open_session",
    _open_job,
    max_attempts=10,
    timeout=60.0,
    summary="open a workshop session's live room at its start and admit the seat holders",
)
CLOSE_SESSION = JobType(
    "workshops.close_session",
    _declared,
    max_attempts=10,
    timeout=120.0,
    summary="close a workshop session's room at its end (warn, grace, end) and write its "
    "attendance back",
)


async def room_ended(session: AsyncSession, event: Event) -> None:
    """The organiser ended a session's room early: the session closes with it."""
    payload = event.payload
    assert isinstance(payload, RoomEnded)
    found = await session.scalar(
        select(WorkshopOccurrence.id).where(WorkshopOccurrence.room_id == payload.room_id)
    )
    if found is not None:
        await close_session(session, found, payload.ended_at)


ROOM_ENDED_CLOSES = Consumer("workshops.room_ended", (ROOM_ENDED.name,), room_ended)


def consumers() -> list[Consumer]:
    """The workshops' consumers, for the node's catalogue."""
    return [ROOM_ENDED_CLOSES]
