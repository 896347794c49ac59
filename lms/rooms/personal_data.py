"""The rooms module's part of personal-data export and erasure."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.accounts.revoked import RevokedHooks
from lms.personal_data import PersonalData
from persistence.models import (
    Attendance,
    CaptionLine,
    ChatMessage,
    LiveQuizAnswer,
    PollVote,
    Room,
    RoomEvent,
    RoomMember,
    User,
)
from persistence.models.base import utcnow

ERASED_AUTHOR = "Deleted user"


async def export_rooms(session: AsyncSession, user: User) -> dict[str, Any]:
    """Rooms created, invitations, attendance, chat messages written and poll votes."""
    created = await session.execute(select(Room).where(Room.created_by == user.id))
    members = await session.execute(select(RoomMember).where(RoomMember.user_id == user.id))
    stays = await session.execute(
        select(Attendance).where(Attendance.user_id == user.id).order_by(Attendance.joined_at)
    )
    messages = await session.execute(
        select(ChatMessage).where(ChatMessage.author_id == user.id).order_by(ChatMessage.created_at)
    )
    votes = await session.execute(select(PollVote).where(PollVote.user_id == user.id))
    answers = await session.execute(
        select(LiveQuizAnswer).where(LiveQuizAnswer.user_id == user.id).order_by(LiveQuizAnswer.at)
    )
    captions = await session.execute(
        select(CaptionLine)
        .where(or_(CaptionLine.speaker_id == user.id, CaptionLine.author_id == user.id))
        .order_by(CaptionLine.started_at)
    )
    return {
        "rooms_created": [
            {"id": str(r.id), "title": r.title, "created_at": r.created_at.isoformat()}
            for r in created.scalars()
        ],
        "memberships": [
            {"room_id": str(m.room_id), "role": m.role, "banned": m.banned}
            for m in members.scalars()
        ],
        "attendance": [
            {
                "room_id": str(a.room_id),
                "role": a.role,
                "joined_at": a.joined_at.isoformat(),
                "left_at": a.left_at.isoformat() if a.left_at else None,
            }
            for a in stays.scalars()
        ],
        "chat_messages": [
            {
                "room_id": str(m.room_id),
                "text": m.text,
                "at": m.created_at.isoformat(),
                "private": m.to_user_id is not None or m.to_hosts,
                "deleted": m.deleted_at is not None,
            }
            for m in messages.scalars()
        ],
        "poll_votes": [{"poll_id": str(v.poll_id), "choices": v.choices} for v in votes.scalars()],
        "live_quiz_answers": [
            {
                "quiz_id": str(a.quiz_id),
                "question_id": a.question_id,
                "response": a.response,
                "credit": a.credit,
                "at": a.at.isoformat(),
            }
            for a in answers.scalars()
        ],
        "caption_lines": [
            {
                "room_id": str(c.room_id),
                "text": c.text,
                "spoken": c.speaker_id == user.id,
                "typed": c.author_id == user.id,
                "start": c.started_at.isoformat(),
                "end": c.ended_at.isoformat(),
            }
            for c in captions.scalars()
        ],
    }


async def erase_rooms(session: AsyncSession, user: User, *, revoked: RevokedHooks) -> None:
    """Blank the user's chat messages, every room event they caused and every caption line
    event of what they said (typed by a captioner or automatic), delete the caption lines
    of what they said, and take their name off the lines they typed.

    Attendance, votes and live quiz answers stay (a class's records and tallies need them);
    they point at
    the account row, which erasure itself anonymises.
    """
    now = utcnow()
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.author_id == user.id)
        .values(text="", author_name=ERASED_AUTHOR, deleted_at=now, reactions={})
    )
    await session.execute(
        update(RoomEvent).where(RoomEvent.actor_id == user.id).values(payload={"erased": True})
    )
    # Lines naming them as the speaker, typed by a captioner or automatic (no actor), too.
    spoken = RoomEvent.payload["line"]["speaker_id"].as_string() == str(user.id)
    await session.execute(
        update(RoomEvent)
        .where(RoomEvent.type == "caption.line", spoken)
        .values(payload={"erased": True})
    )
    await session.execute(delete(CaptionLine).where(CaptionLine.speaker_id == user.id))
    await session.execute(
        update(CaptionLine).where(CaptionLine.author_id == user.id).values(author_id=None)
    )
    # The account's sessions end with erasure: its live connections close too (4001).
    revoked.notify(session, user)


def register(registry: PersonalData, revoked: RevokedHooks) -> None:
    """Add the rooms section to the app's personal-data registry; erasure ends the user's
    sessions through the app's ``revoked`` hooks."""
    erase = functools.partial(erase_rooms, revoked=revoked)
    registry.contributes("rooms", export=export_rooms, erase=erase)
