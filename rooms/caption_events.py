"""The captions' server-to-client events, one model per kind (see ``rooms/events.py``).

``caption.partial`` (volatile) is the words so far of an utterance, replaced by the next
partial or line of the same ``utterance``; ``caption.line`` (sequenced, stored, in the
snapshot's recent lines) is a final line; ``caption.captioner`` and ``caption.auto`` say
who may caption and whether the node's speech-to-text captions the room.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from rooms.events import NULLABLE, Sequenced, Volatile

CaptionSource = Literal["human", "auto"]


class CaptionLineEntry(BaseModel):
    """A final caption line as events, snapshots and the transcript carry it.

    ``start`` and ``end`` are ISO 8601 wall-clock times of the speech it covers;
    ``author_id`` is the captioner (null for automatic lines), ``track_id`` the audio the
    engine heard (automatic lines only).
    """

    model_config = ConfigDict(extra="forbid")
    id: str
    source: CaptionSource
    utterance: str
    speaker_id: Annotated[str | None, NULLABLE]
    speaker_name: str
    author_id: Annotated[str | None, NULLABLE]
    track_id: Annotated[str | None, NULLABLE]
    text: str
    start: str
    end: str


class CaptionsView(BaseModel):
    """The snapshot's ``captions``."""

    model_config = ConfigDict(extra="forbid")
    captioners: list[str]
    auto: bool
    lines: list[CaptionLineEntry]


class CaptionPartial(Volatile):
    type: Literal["caption.partial"]
    source: CaptionSource
    utterance: str
    text: str
    speaker_id: Annotated[str | None, NULLABLE]
    speaker_name: str
    by: Annotated[str | None, NULLABLE] = None
    track_id: Annotated[str | None, NULLABLE] = None


class CaptionLined(Sequenced):
    type: Literal["caption.line"]
    line: CaptionLineEntry


class CaptionCaptioner(Sequenced):
    type: Literal["caption.captioner"]
    user_id: str
    on: bool


class CaptionAutoSwitched(Sequenced):
    type: Literal["caption.auto"]
    on: bool
