"""The rooms domain's operations other domains call: creating a live room, inviting
participants to it (or withdrawing an invitation), reading who stayed how long, and
speaking in a room as the system from a job (``system_events`` then ``broadcast``)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Attendance, Room, RoomMember
from persistence.models.base import utcnow
from realtime.broker import Broker
from realtime.errors import BrokerUnavailableError
from rooms import frames
from rooms.manager import RoomManager
from rooms.state import Event, new_event
from rooms.store import store_events

logger = logging.getLogger(__name__)


async def create_room(
    session: AsyncSession,
    *,
    title: str,
    created_by: uuid.UUID,
    course_id: uuid.UUID | None = None,
    settings: dict[str, Any] | None = None,
) -> Room:
    """A new open room (the caller checked the creator may host it, and audits)."""
    room = Room(title=title, created_by=created_by, settings=settings or {}, course_id=course_id)
    session.add(room)
    await session.flush()
    return room


async def invite_participants(
    session: AsyncSession, room_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> None:
    """Invite ``user_ids`` to the room as participants; anyone already a member (invited
    with another role, or banned) keeps their standing."""
    if not user_ids:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RoomMember).values(
        [
            {"id": uuid.uuid4(), "room_id": room_id, "user_id": user, "role": "participant"}
            for user in user_ids
        ]
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["room_id", "user_id"]))


async def stays(
    session: AsyncSession, room_id: uuid.UUID
) -> list[tuple[uuid.UUID, datetime, datetime | None]]:
    """Every stay in the room: (user, joined, left or None while still there)."""
    rows = await session.execute(
        select(Attendance.user_id, Attendance.joined_at, Attendance.left_at)
        .where(Attendance.room_id == room_id)
        .order_by(Attendance.joined_at)
    )
    return [(user, joined, left) for user, joined, left in rows.tuples()]


async def present(session: AsyncSession, room_id: uuid.UUID) -> list[uuid.UUID]:
    """Who is in the room now (a stay not yet ended), each once."""
    rows = await session.execute(
        select(Attendance.user_id)
        .where(Attendance.room_id == room_id, Attendance.left_at.is_(None))
        .distinct()
    )
    return list(rows.scalars())


async def system_events(
    session: AsyncSession, room_id: uuid.UUID, kind: str, at: datetime, **fields: Any
) -> list[Event]:
    """Store one event of ``kind`` by the system in the room's log (its projection runs in
    ``session``, so it commits with the caller's work); the events that stood, for
    ``broadcast`` after the commit. For jobs, which have no live room of their own."""
    event = new_event(kind, by=None, at=at.isoformat(), **fields)
    kept = await store_events(session, room_id, [event])
    return [event] if all(kept) else []


async def broadcast(broker: Broker | None, room_id: uuid.UUID, events: list[Event]) -> None:
    """Publish stored events to the room's channel: every node holding the room applies
    them (closing connections on ``room.ended``). Without a broker, or while it is down, the
    events stay stored and reach the room when its nodes resync or load it."""
    if broker is None:
        return
    for event in events:
        try:
            await broker.publish(frames.channel(str(room_id)), frames.encode(event))
        except BrokerUnavailableError as exc:
            logger.warning("broker unavailable, %s not broadcast: %s", room_id, exc)
            return


async def admit(session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    """Invite ``user_id`` into the room with ``role`` (a ban or an existing invitation
    stays as it is); the caller audits."""
    query = select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
    if (await session.execute(query)).scalar_one_or_none() is None:
        session.add(RoomMember(room_id=room_id, user_id=user_id, role=role))
        await session.flush()


async def dismiss(session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Withdraw ``user_id``'s invitation to the room (a ban stays)."""
    await session.execute(
        delete(RoomMember).where(
            RoomMember.room_id == room_id,
            RoomMember.user_id == user_id,
            RoomMember.banned.is_(False),
        )
    )


async def remove_live(
    manager: RoomManager, room_ids: list[uuid.UUID], user_id: uuid.UUID, by: uuid.UUID
) -> None:
    """After a commit that took ``user_id``'s standing in ``room_ids`` away: remove them
    from those rooms now (their live connections close with 4030), as a host's removal."""
    for room_id in room_ids:
        event = new_event(
            "participant.removed",
            by=str(by),
            at=utcnow().isoformat(),
            user_id=str(user_id),
            ban=False,
        )
        await manager.publish(str(room_id), [event])
