"""Durable side of rooms: every event appended (group commit) before it is broadcast, the
tables it changes kept current, and a room's state loaded back from them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.group_commit import GroupCommitter
from persistence.models import Attendance, ChatMessage, Poll, PollVote, Room, RoomEvent, RoomMember
from rooms import tokens
from rooms.state import CHAT_TAIL, Event, RoomState, public_settings
from rooms.state import Poll as PollState

Projection = Callable[[AsyncSession, uuid.UUID, Event], Awaitable[bool]]
PROJECTIONS: dict[str, Projection] = {}
POLLS_LOADED = 50


def projects(*types: str) -> Callable[[Projection], Projection]:
    """Register how events of ``types`` change the room tables."""

    def register(projection: Projection) -> Projection:
        for kind in types:
            PROJECTIONS[kind] = projection
        return projection

    return register


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _at(event: Event) -> datetime:
    return datetime.fromisoformat(event["at"])


class RoomStore:
    """Appends room events durably (batched) and loads room state."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer

    async def append(self, room_id: str, events: list[Event]) -> list[bool]:
        """Store ``events``; for each, whether it stands (False: refused, e.g. a second vote)."""
        room = uuid.UUID(room_id)

        async def write(session: AsyncSession) -> list[bool]:
            kept = []
            for event in events:
                projection = PROJECTIONS.get(event["type"])
                keep = await projection(session, room, event) if projection else True
                if keep:
                    session.add(
                        RoomEvent(
                            room_id=room,
                            type=event["type"],
                            actor_id=_uuid(event.get("by")),
                            payload=event,
                            at=_at(event),
                        )
                    )
                kept.append(keep)
            return kept

        return await self.committer.submit(write)

    async def load(self, session: AsyncSession, room_id: str, *, salt: bytes) -> RoomState | None:
        """The state of a room from the database (None if there is no such room)."""
        row = await session.get(Room, uuid.UUID(room_id))
        if row is None:
            return None
        state = RoomState(
            room_id=room_id,
            title=row.title,
            settings=public_settings(row.settings),
            status=row.status,
            parent_id=str(row.parent_id) if row.parent_id else None,
            salt=salt,
            breakouts=row.settings.get("breakouts"),
        )
        await _load_members(session, state)
        await _load_chat(session, state)
        await _load_polls(session, state)
        return state


async def _load_members(session: AsyncSession, state: RoomState) -> None:
    room = uuid.UUID(state.room_id)
    banned = await session.execute(
        select(RoomMember.user_id).where(RoomMember.room_id == room, RoomMember.banned.is_(True))
    )
    state.banned = {str(u) for u in banned.scalars()}
    seen = await session.execute(
        select(Attendance.user_id).where(Attendance.room_id == room).distinct()
    )
    state.seen = {str(u) for u in seen.scalars()} - state.banned


async def _load_chat(session: AsyncSession, state: RoomState) -> None:
    rows = await session.execute(
        select(ChatMessage)
        .where(ChatMessage.room_id == uuid.UUID(state.room_id))
        .order_by(ChatMessage.created_at.desc())
        .limit(CHAT_TAIL)
    )
    for message in reversed(list(rows.scalars())):
        state.chat.append(chat_entry(message))


def chat_entry(message: ChatMessage) -> dict[str, Any]:
    """A stored chat message in the shape events and snapshots use."""
    return {
        "id": str(message.id),
        "author_id": str(message.author_id) if message.author_id else None,
        "author_name": message.author_name,
        "text": "" if message.deleted_at else message.text,
        "to_user_id": str(message.to_user_id) if message.to_user_id else None,
        "to_hosts": message.to_hosts,
        "at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted_at is not None,
        "reactions": dict(message.reactions),
    }


async def _load_polls(session: AsyncSession, state: RoomState) -> None:
    rows = await session.execute(
        select(Poll)
        .where(Poll.room_id == uuid.UUID(state.room_id))
        .order_by(Poll.created_at.desc())
        .limit(POLLS_LOADED)
    )
    for poll in reversed(list(rows.scalars())):
        loaded = PollState(
            id=str(poll.id),
            question=poll.question,
            options=list(poll.options),
            multiple=poll.multiple,
            anonymous=poll.anonymous,
            created_by=str(poll.created_by) if poll.created_by else "",
            status=poll.status,
            published=poll.published,
            counts=[0] * len(poll.options),
        )
        votes = await session.execute(select(PollVote).where(PollVote.poll_id == poll.id))
        for vote in votes.scalars():
            loaded.voters[state.voter_key(loaded, str(vote.user_id))] = list(vote.choices)
            loaded.votes += 1
            for choice in vote.choices:
                if 0 <= choice < len(loaded.counts):
                    loaded.counts[choice] += 1
        state.polls[loaded.id] = loaded


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


async def _upsert_member(session: AsyncSession, room: uuid.UUID, user: str, **values: Any) -> None:
    statement = _insert(session, RoomMember).values(
        id=uuid.uuid4(), room_id=room, user_id=uuid.UUID(user), **values
    )
    await session.execute(
        statement.on_conflict_do_update(index_elements=["room_id", "user_id"], set_=values)
    )


@projects("chat.message")
async def _chat_message(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    message = event["message"]
    session.add(
        ChatMessage(
            id=uuid.UUID(message["id"]),
            room_id=room,
            author_id=_uuid(message["author_id"]),
            author_name=message["author_name"],
            to_user_id=_uuid(message["to_user_id"]),
            to_hosts=message["to_hosts"],
            text=message["text"],
            created_at=_at(event),
        )
    )
    return True


@projects("chat.edited")
async def _chat_edited(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == uuid.UUID(event["message_id"]), ChatMessage.room_id == room)
        .values(text=event["text"], edited_at=_at(event))
    )
    return True


@projects("chat.deleted")
async def _chat_deleted(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == uuid.UUID(event["message_id"]), ChatMessage.room_id == room)
        .values(deleted_at=_at(event), deleted_by=_uuid(event.get("by")), text="", reactions={})
    )
    return True


@projects("chat.reaction")
async def _chat_reaction(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
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


@projects("presence.connected")
async def _arrived(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    if event.get("first"):
        user = event["user"]
        session.add(
            Attendance(
                room_id=room,
                user_id=uuid.UUID(user["user_id"]),
                role=user["role"],
                joined_at=_at(event),
            )
        )
    return True


@projects("presence.disconnected")
async def _left(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    if event.get("last"):
        await session.execute(
            update(Attendance)
            .where(
                Attendance.room_id == room,
                Attendance.user_id == uuid.UUID(event["user_id"]),
                Attendance.left_at.is_(None),
            )
            .values(left_at=_at(event))
        )
    return True


@projects("participant.removed")
async def _removed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await _left(session, room, {**event, "last": True})
    if event.get("ban"):
        await _upsert_member(session, room, event["user_id"], banned=True)
    await _note_removal(session, room, event["user_id"], _at(event))
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


@projects("participant.role")
async def _role(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await _upsert_member(session, room, event["user_id"], role=event["role"])
    return True


async def _merge_settings(
    session: AsyncSession, room: uuid.UUID, changes: dict[str, Any]
) -> Room | None:
    row = await session.get(Room, room, with_for_update=True)
    if row is not None:
        row.settings = {**row.settings, **changes}
    return row


@projects("room.settings")
async def _settings(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await _merge_settings(session, room, event["changes"])
    return True


@projects("room.ended")
async def _ended(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(
        update(Room).where(Room.id == room).values(status="ended", ended_at=_at(event))
    )
    await session.execute(
        update(Attendance)
        .where(Attendance.room_id == room, Attendance.left_at.is_(None))
        .values(left_at=_at(event))
    )
    return True


@projects("poll.created")
async def _poll_created(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    poll = event["poll"]
    session.add(
        Poll(
            id=uuid.UUID(poll["id"]),
            room_id=room,
            created_by=_uuid(poll["created_by"]),
            question=poll["question"],
            options=poll["options"],
            multiple=poll["multiple"],
            anonymous=poll["anonymous"],
            created_at=_at(event),
        )
    )
    return True


@projects("poll.voted")
async def _poll_voted(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    voter = event.get("_voter_id") or event.get("by")
    statement = _insert(session, PollVote).values(
        id=uuid.uuid4(),
        poll_id=uuid.UUID(event["poll_id"]),
        user_id=uuid.UUID(str(voter)),
        choices=event["choices"],
        at=_at(event),
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["poll_id", "user_id"])
    )
    return bool(getattr(result, "rowcount", 1))


@projects("poll.published", "poll.closed")
async def _poll_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    values: dict[str, Any] = (
        {"published": True}
        if event["type"] == "poll.published"
        else {"status": "closed", "closed_at": _at(event)}
    )
    await session.execute(
        update(Poll)
        .where(Poll.id == uuid.UUID(event["poll_id"]), Poll.room_id == room)
        .values(**values)
    )
    return True


@projects("breakout.created")
async def _breakouts_created(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
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


@projects("breakout.assigned", "breakout.opened", "breakout.closed")
async def _breakouts_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    row = await session.get(Room, room, with_for_update=True)
    if row is None:
        return True
    if event.get("parent"):  # this room is a breakout room being closed
        row.status = "ended"
        row.ended_at = _at(event)
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


@projects("room.renamed")
async def _renamed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    await session.execute(update(Room).where(Room.id == room).values(title=event["title"]))
    return True
