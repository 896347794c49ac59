"""Client-to-server messages of the room channel, one model per kind (Sans-I/O).

The catalogue (``rooms/catalogue.py``) pairs each model with its handler and grant, and
decodes frames with ``decode`` over the models it lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Container
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from ops.nul import find_nul
from rooms.errors import BadMessage
from rooms.roles import RoomRole

PROTOCOL_VERSION = 1
MAX_CHAT_LENGTH = 4000
MAX_REF_LENGTH = 64

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHAT_LENGTH)
]
Emoji = Annotated[str, StringConstraints(min_length=1, max_length=16)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Message(BaseModel):
    """Fields every client message may carry: ``ref`` comes back in the ack or error."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: Annotated[str, Field(max_length=MAX_REF_LENGTH)] | None = None


class Ping(Message):
    type: Literal["ping"]


class ChatSend(Message):
    type: Literal["chat.send"]
    text: Text
    to: uuid.UUID | Literal["hosts"] | None = None


class ChatEdit(Message):
    type: Literal["chat.edit"]
    message_id: uuid.UUID
    text: Text


class ChatDelete(Message):
    type: Literal["chat.delete"]
    message_id: uuid.UUID


class ChatReact(Message):
    type: Literal["chat.react"]
    message_id: uuid.UUID
    emoji: Emoji
    add: StrictBool = True


class ChatTyping(Message):
    type: Literal["chat.typing"]
    to: uuid.UUID | Literal["hosts"] | None = None


class HandRaise(Message):
    type: Literal["hand.raise"]


class HandLower(Message):
    type: Literal["hand.lower"]
    user_id: uuid.UUID | None = None


class ReactionSend(Message):
    type: Literal["reaction.send"]
    emoji: Emoji


class StatusSet(Message):
    type: Literal["status.set"]
    camera: StrictBool | None = None
    mic: StrictBool | None = None
    screen: StrictBool | None = None
    away: StrictBool | None = None


class ParticipantMute(Message):
    type: Literal["participant.mute"]
    user_id: uuid.UUID


class ParticipantAskUnmute(Message):
    type: Literal["participant.ask_unmute"]
    user_id: uuid.UUID


class RoomMuteAll(Message):
    type: Literal["room.mute_all"]


class ParticipantRemove(Message):
    type: Literal["participant.remove"]
    user_id: uuid.UUID
    ban: StrictBool = False


class ParticipantSetRole(Message):
    type: Literal["participant.set_role"]
    user_id: uuid.UUID
    role: RoomRole


class RoomSpotlight(Message):
    type: Literal["room.spotlight"]
    user_id: uuid.UUID | None


class RoomSettings(Message):
    """Change room settings; only the fields given change."""

    type: Literal["room.settings"]
    locked: StrictBool | None = None
    lobby: StrictBool | None = None
    chat_enabled: StrictBool | None = None
    slow_mode_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    whiteboard_locked: StrictBool | None = None
    notes_locked: StrictBool | None = None


class LobbyAdmit(Message):
    type: Literal["lobby.admit"]
    user_id: uuid.UUID


class LobbyDeny(Message):
    type: Literal["lobby.deny"]
    user_id: uuid.UUID


class RoomEnd(Message):
    type: Literal["room.end"]


class PollCreate(Message):
    type: Literal["poll.create"]
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    options: Annotated[list[ShortText], Field(min_length=2, max_length=10)]
    multiple: StrictBool = False
    anonymous: StrictBool = False


class PollVote(Message):
    type: Literal["poll.vote"]
    poll_id: uuid.UUID
    choices: Annotated[list[Annotated[int, Field(ge=0, le=9)]], Field(min_length=1, max_length=10)]


class PollPublish(Message):
    type: Literal["poll.publish"]
    poll_id: uuid.UUID


class PollClose(Message):
    type: Literal["poll.close"]
    poll_id: uuid.UUID


class BreakoutCreate(Message):
    """Create breakout rooms and assign people: explicitly, automatically, or both."""

    type: Literal["breakout.create"]
    count: Annotated[int, Field(ge=1, le=50)]
    names: Annotated[list[ShortText], Field(max_length=50)] | None = None
    assignments: Annotated[
        dict[uuid.UUID, Annotated[int, Field(ge=0, le=49)]], Field(max_length=1000)
    ] = {}
    auto: StrictBool = False


class BreakoutAssign(Message):
    type: Literal["breakout.assign"]
    user_id: uuid.UUID
    index: Annotated[int, Field(ge=0, le=49)]


class BreakoutOpen(Message):
    type: Literal["breakout.open"]
    duration_seconds: Annotated[int, Field(ge=30, le=4 * 3600)] | None = None


class BreakoutBroadcast(Message):
    type: Literal["breakout.broadcast"]
    text: Text


class BreakoutClose(Message):
    type: Literal["breakout.close"]


MediaSource = Literal["camera", "microphone", "screen"]
Sdp = Annotated[str, StringConstraints(min_length=1, max_length=65_536)]


class MediaTrackSpec(BaseModel):
    """One m-line of a publisher offer and the source it carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mid: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    source: MediaSource


class MediaPublish(Message):
    type: Literal["media.publish"]
    sdp: Sdp
    tracks: Annotated[list[MediaTrackSpec], Field(min_length=1, max_length=3)]


class MediaUnpublish(Message):
    type: Literal["media.unpublish"]
    source: MediaSource


class MediaSubscribe(Message):
    type: Literal["media.subscribe"]


class MediaAnswer(Message):
    type: Literal["media.answer"]
    sdp: Sdp
    version: Annotated[int, Field(ge=1)]


class MediaMute(Message):
    type: Literal["media.mute"]
    user_id: uuid.UUID
    source: MediaSource


class MediaRecord(Message):
    type: Literal["media.record"]
    on: StrictBool


# Captions (rooms/captions.py): a captioner's typed lines, who captions, automatic captions.
# The text's own cap (MAX_CAPTION_LENGTH in rooms/captions.py) is checked by the handler,
# so an oversized line gets its own error code; the frame size caps it here.
CaptionUtterance = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]


class CaptionSend(Message):
    type: Literal["caption.send"]
    utterance: CaptionUtterance
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_CHAT_LENGTH)]
    final: StrictBool = False
    speaker: uuid.UUID | None = None
    seconds: Annotated[float, Field(ge=0, le=60)] | None = None


class CaptionAssign(Message):
    type: Literal["caption.assign"]
    user_id: uuid.UUID
    on: StrictBool = True


class CaptionAuto(Message):
    type: Literal["caption.auto"]
    on: StrictBool


# Live quizzes (rooms/quizzes.py). A question is the author's definition of an automatically
# graded question type (docs/protocol.md, "Live quizzes"); the installed rules check it.
QuestionId = Annotated[str, StringConstraints(pattern=r"^q[0-9]{1,2}$")]
MAX_QUIZ_QUESTIONS = 10


class QuizLaunch(Message):
    type: Literal["quiz.launch"]
    title: ShortText
    questions: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_QUIZ_QUESTIONS)]
    seconds: Annotated[int, Field(ge=10, le=3600)] | None = None
    points: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None


class QuizAnswer(Message):
    type: Literal["quiz.answer"]
    quiz_id: uuid.UUID
    question_id: QuestionId
    response: dict[str, Any]


class QuizClose(Message):
    type: Literal["quiz.close"]
    quiz_id: uuid.UUID


class QuizReveal(Message):
    type: Literal["quiz.reveal"]
    quiz_id: uuid.UUID


class QuizResult(Message):
    type: Literal["quiz.result"]
    quiz_id: uuid.UUID


class QuizGrade(Message):
    type: Literal["quiz.grade"]
    quiz_id: uuid.UUID


def type_name(model: type[Message]) -> str:
    """The ``type`` value a message class stands for."""
    return str(get_args(model.model_fields["type"].annotation)[0])


MESSAGE_TYPES = frozenset(type_name(m) for m in Message.__subclasses__())


def decode(frame: str | bytes, adapter: TypeAdapter[Message], known: Container[str]) -> Message:
    """Decode one client frame with ``adapter`` (the catalogue's message kinds, ``known`` by
    name); raise ``BadMessage`` saying what is wrong."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise BadMessage("invalid-json", "The message is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadMessage("invalid-message", "A message must be a JSON object.")
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in known:
        raise BadMessage("unknown-type", f"Unknown message type {str(kind)[:40]!r}.", ref=ref)
    # PostgreSQL cannot store NUL and SQLite can: refused alike, whatever the database. JSON
    # carries one only as the escape \u0000, so other frames are not searched.
    escaped = "\\u0000" in frame if isinstance(frame, str) else b"\\u0000" in frame
    if escaped and (field := find_nul(data)) is not None:
        raise BadMessage(
            "invalid-message",
            f"Invalid fields: {field}: NUL characters (U+0000) are not allowed.",
            ref=ref,
        )
    try:
        message = adapter.validate_python(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"][1:])) or "message" for e in exc.errors())
        raise BadMessage("invalid-message", f"Invalid fields: {fields}.", ref=ref) from None
    return message
