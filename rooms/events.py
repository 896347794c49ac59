"""Server-to-client room events, one model per kind: the fields each carries on the wire.

Handlers and reducers work on plain dicts (encoded once, fanned out as bytes); these models
say what those dicts hold. The catalogue pairs each with its kind, delivery and reducer,
the unit tests check handlers' events against them, and the web app's TypeScript types
are generated from them (``python -m rooms.typescript``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from rooms.roles import RoomRole

# Marks an optional field that may also be null on the wire (other optional server fields
# are absent rather than null: the generated TypeScript types say so).
NULLABLE = "nullable"
MediaKind = Literal["audio", "video"]
MediaSource = Literal["camera", "microphone", "screen"]


class Audience(BaseModel):
    """Who receives an event when not everyone: these users, and/or the hosts."""

    model_config = ConfigDict(extra="forbid")
    users: list[str] = []
    hosts: bool = False


class Volatile(BaseModel):
    """An unsequenced event: never stored, not recovered."""

    model_config = ConfigDict(extra="forbid")
    audience: Audience | None = None


class Sequenced(Volatile):
    """A sequenced event: stored before anyone receives it; ``seq`` is added on delivery;
    ``by`` is the acting user (null: the system)."""

    at: str
    by: Annotated[str | None, NULLABLE] = None


class Settings(BaseModel):
    """A room's settings as clients see them."""

    model_config = ConfigDict(extra="forbid")
    open: bool
    lobby: bool
    locked: bool
    chat_enabled: bool
    slow_mode_seconds: int
    whiteboard_locked: bool
    notes_locked: bool
    max_participants: int


class SettingsChanges(BaseModel):
    """The settings a ``room.settings`` event changed (the others are absent)."""

    model_config = ConfigDict(extra="forbid")
    open: bool | None = None
    lobby: bool | None = None
    locked: bool | None = None
    chat_enabled: bool | None = None
    slow_mode_seconds: int | None = None
    whiteboard_locked: bool | None = None
    notes_locked: bool | None = None
    max_participants: int | None = None


class UserRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str
    name: str
    role: RoomRole


class Waiting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str
    name: str
    since: str


class ChatEntry(BaseModel):
    """A chat message as events and snapshots carry it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    author_id: str | None
    author_name: str
    text: str
    to_user_id: str | None
    to_hosts: bool
    at: str
    edited_at: str | None
    deleted: bool
    reactions: dict[str, list[str]]


class NewPoll(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    question: str
    options: list[str]
    multiple: bool
    anonymous: bool
    created_by: str


class PollResults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counts: list[int]
    votes: int
    voters: dict[str, list[int]] | None = None


class BreakoutRoom(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str


class PresenceConnected(Sequenced):
    type: Literal["presence.connected"]
    user: UserRef
    conn_id: str
    node: str
    first: bool


class PresenceDisconnected(Sequenced):
    type: Literal["presence.disconnected"]
    user_id: str
    conn_id: str
    last: bool


class ParticipantStatus(Sequenced):
    type: Literal["participant.status"]
    user_id: str
    camera: bool | None = None
    mic: bool | None = None
    screen: bool | None = None
    away: bool | None = None


class ParticipantMuted(Sequenced):
    type: Literal["participant.muted"]
    user_id: str


class ParticipantRole(Sequenced):
    type: Literal["participant.role"]
    user_id: str
    role: RoomRole


class ParticipantRemoved(Sequenced):
    type: Literal["participant.removed"]
    user_id: str
    ban: bool = False


class ParticipantUnbanned(Sequenced):
    type: Literal["participant.unbanned"]
    user_id: str


class ParticipantUnmuteRequested(Sequenced):
    type: Literal["participant.unmute_requested"]
    user_id: str


class RoomMutedAll(Sequenced):
    type: Literal["room.muted_all"]


class RoomSpotlighted(Sequenced):
    type: Literal["room.spotlight"]
    user_id: str | None


class RoomSettingsChanged(Sequenced):
    type: Literal["room.settings"]
    changes: SettingsChanges


class RoomRenamed(Sequenced):
    type: Literal["room.renamed"]
    title: str


class RoomClosing(Sequenced):
    """The room will end at ``closes_at`` (a scheduled session reached its end): a warning
    to everyone in it; at that time every connection closes with 4010."""

    type: Literal["room.closing"]
    closes_at: str
    reason: str


class RoomEnded(Sequenced):
    type: Literal["room.ended"]
    reason: str | None = None


class HandRaised(Sequenced):
    type: Literal["hand.raised"]
    user_id: str


class HandLowered(Sequenced):
    type: Literal["hand.lowered"]
    user_id: str


class ChatMessaged(Sequenced):
    type: Literal["chat.message"]
    message: ChatEntry


class ChatEdited(Sequenced):
    type: Literal["chat.edited"]
    message_id: str
    text: str


class ChatDeleted(Sequenced):
    type: Literal["chat.deleted"]
    message_id: str


class ChatReaction(Sequenced):
    type: Literal["chat.reaction"]
    message_id: str
    emoji: str
    add: bool


class LobbyWaiting(Sequenced):
    type: Literal["lobby.waiting"]
    user: Waiting
    conn_id: str


class LobbyLeft(Sequenced):
    type: Literal["lobby.left"]
    user_id: str
    conn_id: str


class LobbyAdmitted(Sequenced):
    type: Literal["lobby.admitted"]
    user_id: str


class LobbyDenied(Sequenced):
    type: Literal["lobby.denied"]
    user_id: str


class PollCreated(Sequenced):
    type: Literal["poll.created"]
    poll: NewPoll


class PollVoted(Sequenced):
    """``by`` names the voter of a named poll, ``voter`` (a keyed hash) of an anonymous one."""

    type: Literal["poll.voted"]
    poll_id: str
    choices: list[int]
    voter: str | None = None


class PollPublished(Sequenced):
    type: Literal["poll.published"]
    poll_id: str
    results: PollResults


class PollClosed(Sequenced):
    type: Literal["poll.closed"]
    poll_id: str


class BreakoutCreated(Sequenced):
    type: Literal["breakout.created"]
    rooms: list[BreakoutRoom]
    assignments: dict[str, int]


class BreakoutAssigned(Sequenced):
    type: Literal["breakout.assigned"]
    user_id: str
    index: int


class BreakoutOpened(Sequenced):
    type: Literal["breakout.opened"]
    ends_at: str | None


class BreakoutBroadcast(Sequenced):
    type: Literal["breakout.broadcast"]
    text: str
    name: str


class BreakoutClosed(Sequenced):
    """``parent``: sent in a breakout room as it ends (go back to the parent room)."""

    type: Literal["breakout.closed"]
    parent: bool = False


class TrackPublished(Sequenced):
    type: Literal["media.track_published"]
    track_id: str
    user_id: str
    conn_id: str
    kind: MediaKind
    source: MediaSource
    external: bool = False


class TrackUnpublished(Sequenced):
    type: Literal["media.track_unpublished"]
    track_id: str
    user_id: str
    reason: Literal["unpublished", "left", "muted", "failed"]


class TrackMuted(Sequenced):
    type: Literal["media.track_muted"]
    track_id: str
    user_id: str
    source: MediaSource


class RecordingSwitched(Sequenced):
    type: Literal["media.recording"]
    on: bool
    recording_id: str


class ChatTypingEvent(Volatile):
    type: Literal["chat.typing"]
    user_id: str
    name: str


class Reaction(Volatile):
    type: Literal["reaction"]
    user_id: str
    emoji: str


class ActiveSpeaker(Volatile):
    type: Literal["media.active_speaker"]
    user_id: str
    level: float
