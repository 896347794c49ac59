"""Captions in the database: the projections of the caption events, the state a node loads,
and a room's transcript read back (the lines between two times, for WebVTT).

Final lines go to ``caption_lines``; who captions and the automatic switch are kept in the
room's private settings (``captioners``, ``auto_captions``), like breakouts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import CaptionLine, Room
from rooms import captions
from rooms.caption_state import CAPTION_TAIL
from rooms.projections import uuid_or_none
from rooms.state import Event, RoomState

TRANSCRIPT_MAX_LINES = 100_000
"""Lines one transcript read returns at most (about 100 hours of continuous speech)."""


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid_or_none(value)
    except ValueError:
        return None


async def line_stored(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``caption.line``: one transcript row."""
    entry = event["line"]
    session.add(
        CaptionLine(
            id=uuid.UUID(entry["id"]),
            room_id=room,
            source=entry["source"],
            speaker_id=_uuid(entry["speaker_id"]),
            speaker_name=entry["speaker_name"][:200],
            author_id=_uuid(entry["author_id"]),
            track_id=entry["track_id"],
            utterance=entry["utterance"][:128],
            text=entry["text"],
            started_at=datetime.fromisoformat(entry["start"]),
            ended_at=datetime.fromisoformat(entry["end"]),
        )
    )
    return True


async def captioner_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``caption.captioner``: the room's captioners, kept in its private settings."""
    row = await session.get(Room, room, with_for_update=True)
    if row is not None:
        captioners = set(row.settings.get("captioners") or [])
        if event["on"]:
            captioners.add(event["user_id"])
        else:
            captioners.discard(event["user_id"])
        row.settings = {**row.settings, "captioners": sorted(captioners)}
    return True


async def auto_changed(session: AsyncSession, room: uuid.UUID, event: Event) -> bool:
    """``caption.auto``: the room's automatic-captions switch."""
    row = await session.get(Room, room, with_for_update=True)
    if row is not None:
        row.settings = {**row.settings, "auto_captions": bool(event["on"])}
    return True


def entry_of(row: CaptionLine) -> dict[str, Any]:
    """A stored line in the shape events and snapshots use (``captions.line``)."""
    return captions.line(
        line_id=str(row.id),
        source=row.source,
        utterance=row.utterance,
        speaker=(str(row.speaker_id) if row.speaker_id else None, row.speaker_name),
        text=row.text,
        start=row.started_at,
        end=row.ended_at,
        author_id=str(row.author_id) if row.author_id else None,
        track_id=row.track_id,
    )


async def load_captions(session: AsyncSession, state: RoomState, stored: dict[str, Any]) -> None:
    """Fill a loaded room's captions: captioners, the switch (from its stored settings) and
    the recent lines."""
    state.captions.captioners = {str(u) for u in stored.get("captioners") or []}
    state.captions.auto = bool(stored.get("auto_captions"))
    rows = await session.execute(
        select(CaptionLine)
        .where(CaptionLine.room_id == uuid.UUID(state.room_id))
        .order_by(CaptionLine.started_at.desc())
        .limit(CAPTION_TAIL)
    )
    for row in reversed(list(rows.scalars())):
        state.captions.lines.append(entry_of(row))


async def transcript(
    session: AsyncSession, room_id: uuid.UUID, *, since: datetime, until: datetime | None
) -> list[CaptionLine]:
    """The room's final lines that end after ``since`` and start before ``until``, in order."""
    query = select(CaptionLine).where(CaptionLine.room_id == room_id, CaptionLine.ended_at > since)
    if until is not None:
        query = query.where(CaptionLine.started_at < until)
    query = query.order_by(CaptionLine.started_at, CaptionLine.id).limit(TRANSCRIPT_MAX_LINES)
    return list((await session.execute(query)).scalars())
