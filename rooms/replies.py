"""Direct server messages, one model per kind: sent to one connection, never sequenced.

``welcome`` (with the room's snapshot), ``pong``, ``ack``, ``error``, the lobby's
``lobby.waiting`` and the media messages ``media.offer`` and ``media.reconnect``. Like
``rooms/events.py`` these describe the dicts the channel encodes; the catalogue lists them
and the web app's TypeScript types are generated from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from rooms.caption_events import CaptionsView
from rooms.events import (
    BreakoutRoom,
    ChatEntry,
    MediaKind,
    MediaSource,
    PollResults,
    Settings,
    Waiting,
)
from rooms.quiz_events import QuizView
from rooms.roles import Grant, RoomRole


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoomClosingInfo(_Shape):
    """The room ends at ``closes_at`` (a scheduled session reached its end)."""

    closes_at: str
    reason: str


class RoomInfo(_Shape):
    id: str
    title: str
    status: Literal["open", "ended"]
    settings: Settings
    parent_id: str | None
    closing: RoomClosingInfo | None


class ParticipantView(_Shape):
    user_id: str
    name: str
    role: RoomRole
    connections: int
    camera: bool
    mic: bool
    screen: bool
    away: bool
    joined_at: str


class Hand(_Shape):
    user_id: str
    at: str


class PollView(_Shape):
    """A poll as one viewer sees it: ``results`` for hosts, or for all once published."""

    id: str
    question: str
    options: list[str]
    multiple: bool
    anonymous: bool
    status: Literal["open", "closed"]
    published: bool
    my_vote: list[int] | None
    results: PollResults | None = None


class Breakouts(_Shape):
    status: Literal["created", "open", "closed"]
    rooms: list[BreakoutRoom]
    assignments: dict[str, int]
    ends_at: str | None


class TrackInfo(_Shape):
    """A published track (``external``: from WHIP, not a room connection)."""

    track_id: str
    user_id: str
    conn_id: str
    kind: MediaKind
    source: MediaSource
    external: bool = False


class Recording(_Shape):
    recording_id: str
    by: str | None
    started_at: str | None


class MediaState(_Shape):
    tracks: list[TrackInfo]
    recording: Recording | None


class Snapshot(_Shape):
    """The whole room as the viewer may see it."""

    room: RoomInfo
    participants: list[ParticipantView]
    hands: list[Hand]
    chat: list[ChatEntry]
    polls: list[PollView]
    spotlight: str | None
    lobby: list[Waiting]
    breakouts: Breakouts | None
    media: MediaState
    captions: CaptionsView
    quizzes: list[QuizView]


class Position(_Shape):
    epoch: str
    seq: int


class You(_Shape):
    user_id: str
    name: str
    conn_id: str
    role: RoomRole
    grants: list[Grant]


class IceServer(_Shape):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Welcome(_Shape):
    """The first message of a session: a snapshot, or ``recovered`` and the missed events."""

    type: Literal["welcome"]
    protocol: int
    recovered: bool
    position: Position
    you: You
    ice_servers: list[IceServer] | None = None
    snapshot: Snapshot | None = None
    recovery_failed: str | None = None


class Pong(_Shape):
    type: Literal["pong"]
    ref: str | None


class Ack(_Shape):
    """A command succeeded; its extras depend on the command (see docs/protocol.md)."""

    type: Literal["ack"]
    ref: str | None
    message_id: str | None = None
    poll_id: str | None = None
    rooms: list[BreakoutRoom] | None = None
    position: int | None = None
    sdp: str | None = None
    tracks: list[TrackInfo] | None = None
    muted: list[str] | None = None
    recording_id: str | None = None
    on: bool | None = None
    quiz_id: str | None = None
    score: float | None = None
    points: float | None = None
    credits: dict[str, float] | None = None
    students: int | None = None


class ErrorReply(_Shape):
    type: Literal["error"]
    ref: str | None
    code: str
    message: str


class LobbyWait(_Shape):
    """Sent (no ``seq``) to a person put in the lobby: wait for a host."""

    type: Literal["lobby.waiting"]
    protocol: int


class OfferedTrack(_Shape):
    mid: str
    track_id: str
    user_id: str
    conn_id: str
    kind: MediaKind
    source: MediaSource


class MediaOffer(_Shape):
    type: Literal["media.offer"]
    version: int
    sdp: str
    tracks: list[OfferedTrack]


class MediaReconnect(_Shape):
    type: Literal["media.reconnect"]
    reason: Literal["node-lost", "node-draining"]
