"""Request and response bodies of the videos API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "processing", "ready", "failed"]


class RenditionOut(BaseModel):
    """One rung of the ladder."""

    name: str
    width: int
    height: int
    bandwidth: int = Field(description="Peak bits per second (the master playlist's BANDWIDTH).")


class CaptionOut(BaseModel):
    """A caption track."""

    language: str = Field(description="BCP 47 tag, e.g. en, pt-BR.")
    label: str
    cues: int


class PlaybackOut(BaseModel):
    """Signed paths for a player, valid until ``expires_at`` (ask again after that)."""

    master: str = Field(description="The HLS master playlist (hls.js, Safari).")
    poster: str
    thumbnails: str = Field(description="WebVTT of seek-preview sprite regions (#xywh).")
    captions: dict[str, str] = Field(description="WebVTT per language.")
    expires_at: datetime


class VideoOut(BaseModel):
    """A video: its transcode's state and, once ready, its ladder and playback paths."""

    id: uuid.UUID
    course_id: uuid.UUID
    file_id: int | None = Field(description="The uploaded original, if it came from a file.")
    recording_id: uuid.UUID | None = Field(description="The room recording it was made of.")
    title: str
    status: Status
    progress: float = Field(description="Share of the transcode done, 0 to 1.")
    error: str | None = Field(description="Why the transcode failed, for the instructor.")
    duration: float | None
    width: int | None
    height: int | None
    renditions: list[RenditionOut]
    captions: list[CaptionOut]
    playback: PlaybackOut | None = Field(description="Null until ready.")
