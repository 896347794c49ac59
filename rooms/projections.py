"""How each room event changes the room tables (chat, attendance, members, polls, breakouts,
the room row), applied inside the append transaction before the event itself is stored.
The catalogue (``rooms/catalogue.py``) names each event kind's projection.

A projection returns whether the event stands: False refuses it (a second vote by the same
person), and the refused event is neither stored nor broadcast.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from persistence.models import Attendance, ChatMessage, Poll, PollVote, Room, RoomMember
from rooms import tokens
from rooms.domain_events import ROOM_ENDED, RoomEnded
from rooms.state import Event

Projection = Callable[[AsyncSession, uuid.UUID, Event], Awaitable[bool]]


def uuid_or_none(value: Any) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is empty."""
    return uuid.UUID(str(value)) if value else None


def event_time(event: Event) -> datetime:
    """When ``event`` happened."""
    return datetime.fromisoformat(event["at"])


def insert_for(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT of the session's dialect (for ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


async def _upsert_member(session: AsyncSession, room: uuid.UUID, user: str, **values: Any) -> None:
    statement = insert_for(session, RoomMember).values(
        id=uuid.uuid4(), room_id=room, user_id=uuid.UUID(user), **values
    )
    await session.execute(
        statement.on_conflict_do_update(index_elements=["room_id", "user_id"], set_=values)
    )


async def chat_message(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    message = event["message"]
    session.add(
        ChatMessage(
            id=uuid.UUID(message["id"]),
            room_id=room,
            author_id=uuid_or_none(message["author_id"]),
            author_name=message["author_name"],
            to_user_id=uuid_or_none(message["to_user_id"]),
            to_hosts=message["to_hosts"],
            text=message["text"],
            created_at=event_time(event),
        )
    )
    return True


async def chat_edited(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == uuid.UUID(event["message_id"]), ChatMessage.room_id == room)
        .values(text=event["text"], edited_at=event_time(event))
    )
    return True


async def chat_deleted(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == uuid.UUID(event["message_id"]), ChatMessage.room_id == room)
        .values(
            deleted_at=event_time(event),
            deleted_by=uuid_or_none(event.get("by")),
            text="",
            reactions={},
        )
    )
    return True


async def chat_reaction(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    message = await session.get(ChatMessage, uuid.UUID(event["message_id"]), with_for_update=True)
    if message is None or message.room_id != room:
        return True
    reactions = {k: list(v) for k, v in message.reactions.items()}
    users = reactions.setdefault(event["emoji"], [])
    if event["add"] and event["by"] not in users:
        users.append(event["by"])
    elif not event["add"] and event["by"] in users:
        users.remove(event["by"])
    message.reactions = {k: v for k, v in reactions.items() if v}
    return True


async def arrived(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    if event.get("first"):
        user = event["user"]
        session.add(
            Attendance(
                room_id=room,
                user_id=uuid.UUID(user["user_id"]),
                role=user["role"],
                joined_at=event_time(event),
            )
        )
    return True


async def left(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    if event.get("last"):
        await session.execute(
            update(Attendance)
            .where(
                Attendance.room_id == room,
                Attendance.user_id == uuid.UUID(event["user_id"]),
                Attendance.left_at.is_(None),
            )
            .values(left_at=event_time(event))
        )
    return True


async def removed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await left(session, room, {**event, "last": True})
    if event.get("ban"):
        await _upsert_member(session, room, event["user_id"], banned=True)
    await _note_removal(session, room, event["user_id"], event_time(event))
    return True


async def _note_removal(session: AsyncSession, room: uuid.UUID, user: str, at: datetime) -> None:
    """Remember when ``user`` was removed, as long as a join token minted before it could
    still be valid: such a token no longer opens a socket (removed means: ask again)."""
    row = await session.get(Room, room, with_for_update=True)
    if row is None:
        return
    horizon = at - tokens.TTL
    removals = {
        who: when
        for who, when in dict(row.settings.get("removals") or {}).items()
        if datetime.fromisoformat(when) > horizon and who != user
    }
    row.settings = {**row.settings, "removals": {**removals, user: at.isoformat()}}


async def role(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await _upsert_member(session, room, event["user_id"], role=event["role"])
    return True


async def _merge_settings(
    session: AsyncSession, room: uuid.UUID, changes: dict[str, Any]
) -> Room | None:
    row = await session.get(Room, room, with_for_update=True)
    if row is not None:
        row.settings = {**row.settings, **changes}
    return row


async def settings(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await _merge_settings(session, room, event["changes"])
    return True


async def ended(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    at = event_time(event)
    row = await session.get(Room, room, with_for_update=True)
    if row is None or row.status == "ended":
        return True
    row.status, row.ended_at = "ended", at
    await session.execute(
        update(Attendance)
        .where(Attendance.room_id == room, Attendance.left_at.is_(None))
        .values(left_at=at)
    )
    attendees = await session.scalar(
        select(func.count(distinct(Attendance.user_id))).where(Attendance.room_id == room)
    )
    payload = RoomEnded(
        room_id=room,
        title=row.title,
        course_id=row.course_id,
        created_by=row.created_by,
        started_at=row.created_at,
        ended_at=at,
        attendees=attendees or 0,
    )
    await emit(session, ROOM_ENDED, payload, aggregate_id=room, occurred_at=at)
    return True


async def poll_created(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    poll = event["poll"]
    session.add(
        Poll(
            id=uuid.UUID(poll["id"]),
            room_id=room,
            created_by=uuid_or_none(poll["created_by"]),
            question=poll["question"],
            options=poll["options"],
            multiple=poll["multiple"],
            anonymous=poll["anonymous"],
            created_at=event_time(event),
        )
    )
    return True


async def poll_voted(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    voter = event.get("_voter_id") or event.get("by")
    statement = insert_for(session, PollVote).values(
        id=uuid.uuid4(),
        poll_id=uuid.UUID(event["poll_id"]),
        user_id=uuid.UUID(str(voter)),
        choices=event["choices"],
        at=event_time(event),
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["poll_id", "user_id"])
    )
    return bool(getattr(result, "rowcount", 1))


async def poll_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    values: dict[str, Any] = (
        {"published": True}
        if event["type"] == "poll.published"
        else {"status": "closed", "closed_at": event_time(event)}
    )
    await session.execute(
        update(Poll)
        .where(Poll.id == uuid.UUID(event["poll_id"]), Poll.room_id == room)
        .values(**values)
    )
    return True


async def breakouts_created(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    for child in event["rooms"]:
        session.add(
            Room(
                id=uuid.UUID(child["id"]),
                title=child["name"],
                created_by=uuid.UUID(event["by"]),
                parent_id=room,
                settings={},
            )
        )
    await session.flush()
    breakouts = {
        "status": "created",
        "rooms": event["rooms"],
        "assignments": event["assignments"],
        "ends_at": None,
    }
    await _merge_settings(session, room, {"breakouts": breakouts})
    return True


async def breakouts_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    row = await session.get(Room, room, with_for_update=True)
    if row is None:
        return True
    if event.get("parent"):  # this room is a breakout room being closed
        row.status = "ended"
        row.ended_at = event_time(event)
        return True
    breakouts = dict(row.settings.get("breakouts") or {})
    if not breakouts:
        return True
    if event["type"] == "breakout.assigned":
        breakouts["assignments"] = {**breakouts["assignments"], event["user_id"]: event["index"]}
    elif event["type"] == "breakout.opened":
        breakouts.update(status="open", ends_at=event["ends_at"])
    else:
        breakouts["status"] = "closed"
    row.settings = {**row.settings, "breakouts": breakouts}
    return True


async def renamed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(update(Room).where(Room.id == room).values(title=event["title"]))
    return True
