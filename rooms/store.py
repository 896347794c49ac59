"""Durable side of rooms: every event appended (group commit) before it is broadcast, the
tables it changes kept current (``rooms/projections.py``), and a room's state loaded back
from them (``rooms/state_loader.py``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.group_commit import GroupCommitter
from persistence.models import RoomEvent
from rooms.catalogue import CATALOGUE
from rooms.projections import event_time, uuid_or_none
from rooms.state import Event, RoomState
from rooms.state_loader import load_room


class RoomStore:
    """Appends room events durably (batched) and loads room state."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer

    async def append(self, room_id: str, events: list[Event]) -> list[bool]:
        """Store ``events``; for each, whether it stands (False: refused, e.g. a second vote)."""
        room = uuid.UUID(room_id)

        async def write(session: AsyncSession) -> list[bool]:
            return await store_events(session, room, events)

        return await self.committer.submit(write)

    async def load(self, session: AsyncSession, room_id: str, *, salt: bytes) -> RoomState | None:
        """The state of a room from the database (None if there is no such room)."""
        return await load_room(session, room_id, salt=salt)


async def store_events(session: AsyncSession, room: uuid.UUID, events: list[Event]) -> list[bool]:
    """Apply each event's projection and keep it in the room's log, in ``session``; for
    each, whether it stands. The node's group commit writes through this, and so does a
    job that speaks in a room as the system (``lms.rooms.service.system_events``)."""
    kept: list[bool] = []
    for event in events:
        # A command's events stand together: once one is refused (a second vote or
        # answer), the ones after it are too (a quiz answer's hosts' tally).
        projection = CATALOGUE.projection(event["type"])
        if not all(kept):
            keep = False
        else:
            keep = await projection(session, room, event) if projection else True
        if keep:
            session.add(
                RoomEvent(
                    room_id=room,
                    type=event["type"],
                    actor_id=uuid_or_none(event.get("by")),
                    payload=event,
                    at=event_time(event),
                )
            )
        kept.append(keep)
    return kept
