"""The end of a workshop session: its room closes for the people still in it.

At the session's end the ``workshops.close_session`` job looks at the room. Empty (or never
opened), it ends at once. Occupied, everyone in it is warned over the room channel
(``room.closing`` with ``closes_at`` and reason ``session_over``) and the job comes back
after the grace period (``LIVECLASS_WORKSHOPS_CLOSE_GRACE_SECONDS``); then the room ends
(``room.ended`` with reason ``session_over``: every connection closes with 4010 and that
reason, nobody joins again) and the session's attendance is written back to the
registrations, the people still there counted up to the session's end (``sessions.
close_session``). The organiser ending the room earlier closes the session the same way.

Each step stores its room event in the job's own transaction and publishes it after the
commit, so a retried job never warns or ends twice: a closed session is left alone, and a
warned one (``warned`` in the job's arguments) is not warned again.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.rooms import service as rooms
from lms.workshops.sessions import CLOSE_SESSION, close_session, locked
from persistence.models import Room
from persistence.models.base import utcnow
from realtime.broker import Broker
from rooms.state import Event
from settings import Settings

REASON = "session_over"


async def _room_live(session: AsyncSession, room_id: uuid.UUID | None) -> bool:
    if room_id is None:
        return False
    status = await session.scalar(select(Room.status).where(Room.id == room_id))
    return status is not None and status != "ended"


async def step(
    session: AsyncSession, occurrence_id: int, now: datetime, *, grace: float, warned: bool
) -> tuple[uuid.UUID | None, list[Event]]:
    """One step of the close (the caller commits, then broadcasts the events to the room
    this returns): warn an occupied room and come back after ``grace`` seconds, or end
    the room and record the session's attendance. Nothing for a session already closed."""
    occurrence = await locked(session, occurrence_id)
    if occurrence is None or occurrence.closed_at is not None:
        return None, []
    room_id = occurrence.room_id
    live = await _room_live(session, room_id)
    warn = live and room_id is not None and not warned and grace > 0
    if warn and room_id is not None and await rooms.present(session, room_id):
        closes_at = now + timedelta(seconds=grace)
        warning = await rooms.system_events(
            session, room_id, "room.closing", now, closes_at=closes_at.isoformat(), reason=REASON
        )
        args = {"occurrence_id": occurrence_id, "warned": True}
        await enqueue(session, CLOSE_SESSION, args, run_at=closes_at)
        return room_id, warning
    events: list[Event] = []
    if live and room_id is not None:
        # Its projection ends the stays still open at ``now``; the session's tally then
        # counts them up to its end.
        events = await rooms.system_events(session, room_id, "room.ended", now, reason=REASON)
    await close_session(session, occurrence_id, now)
    return room_id, events


async def close_job(ctx: JobContext, *, settings: Settings, broker: Broker | None) -> None:
    """The ``workshops.close_session`` handler, bound to the node's settings and broker."""
    occurrence_id = int(ctx.args["occurrence_id"])
    async with ctx.sessions() as session:
        room_id, events = await step(
            session,
            occurrence_id,
            utcnow(),
            grace=settings.workshops_close_grace_seconds,
            warned=bool(ctx.args.get("warned")),
        )
        await session.commit()
    if events and room_id is not None:
        await rooms.broadcast(broker, room_id, events)


def job_types(settings: Settings, broker: Broker | None) -> list[JobType]:
    """The close job with its handler bound to the node's settings and broker."""
    return [replace(CLOSE_SESSION, handler=partial(close_job, settings=settings, broker=broker))]
