"""A room's state read back from the room tables: members and bans, the chat tail, the
latest polls with their votes and the captions (``rooms/caption_store.py``). Used when a
node loads a room it has not held before."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Attendance, ChatMessage, Poll, PollVote, Room, RoomMember
from rooms.caption_store import load_captions
from rooms.quiz_store import load_quizzes
from rooms.state import CHAT_TAIL, RoomState, public_settings
from rooms.state import Poll as PollState

POLLS_LOADED = 50


async def load_room(session: AsyncSession, room_id: str, *, salt: bytes) -> RoomState | None:
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
        course_id=str(row.course_id) if row.course_id else None,
        salt=salt,
        breakouts=row.settings.get("breakouts"),
    )
    await _load_members(session, state)
    await _load_chat(session, state)
    await _load_polls(session, state)
    await load_captions(session, state, row.settings)
    await load_quizzes(session, state)
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
