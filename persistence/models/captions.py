"""Caption lines: the class transcript, one row per final caption (typed or automatic)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id


class CaptionLine(Base):
    """One final caption line of a room, with the wall-clock span it covers.

    ``source`` is ``human`` (a captioner typed it; ``author_id`` says who) or ``auto``
    (the node's speech-to-text; ``track_id`` names the audio it heard). ``speaker_name``
    is kept as shown, so a transcript still reads after the speaker's account is gone.
    """

    __tablename__ = "caption_lines"
    __table_args__ = (
        Index(None, "room_id", "started_at"),
        Index(None, "speaker_id"),
        Index(None, "author_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10))
    speaker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    speaker_name: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    track_id: Mapped[str | None] = mapped_column(String(64), default=None)
    utterance: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
