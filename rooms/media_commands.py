"""Media commands (pure): the decision on a ``media.*`` message, and the SFU step it asks for.

Like every other handler these check the room state and return an ``Outcome``; the part
that awaits aiortc (SDP negotiation, stopping tracks, a recording) is the outcome's
``effect``: a ``media.relay`` operation, or ``Record``. The channel runs the effect after
the decision, through ``MediaSignalling.perform`` (rooms/media.py), here or on the room's
media node.
"""

from __future__ import annotations

from dataclasses import dataclass

from media.relay import Answer, Mute, Publish, Subscribe, Unpublish
from rooms.dispatch import Context, Outcome
from rooms.errors import forbidden, not_found
from rooms.messages import (
    MediaAnswer,
    MediaMute,
    MediaPublish,
    MediaRecord,
    MediaSubscribe,
    MediaUnpublish,
)
from rooms.roles import Grant, RoomRole

SOURCE_GRANT = {
    "camera": Grant.PUBLISH_VIDEO,
    "microphone": Grant.PUBLISH_AUDIO,
    "screen": Grant.PUBLISH_SCREEN,
}


@dataclass(frozen=True)
class Record:
    """Start (``on``) or stop the room's recording, by user ``by``; reply
    ``{recording_id, on}`` (run by ``RoomRecorder``)."""

    room_id: str
    by: str
    on: bool


def publish(ctx: Context, message: MediaPublish) -> Outcome:
    """Publish tracks: each source needs its own grant (camera, microphone, screen)."""
    grants = ctx.state.grants(ctx.actor.user_id)
    for spec in message.tracks:
        if SOURCE_GRANT[spec.source] not in grants:
            raise forbidden(f"publish {spec.source}")
    sources: dict[str, str] = {spec.mid: spec.source for spec in message.tracks}
    actor = ctx.actor
    op = Publish(ctx.state.room_id, actor.user_id, actor.conn_id, message.sdp, sources)
    return Outcome(effect=op)


def unpublish(ctx: Context, message: MediaUnpublish) -> Outcome:
    """Stop forwarding one of one's own sources."""
    return Outcome(effect=Unpublish(ctx.state.room_id, ctx.actor.conn_id, message.source))


def subscribe(ctx: Context, _message: MediaSubscribe) -> Outcome:
    """(Re)create the subscriber; the ack goes first, then the server's ``media.offer``."""
    return Outcome(effect=Subscribe(ctx.state.room_id, ctx.actor.conn_id), ack_first=True)


def answer(ctx: Context, message: MediaAnswer) -> Outcome:
    """The subscriber's answer to offer ``version``."""
    op = Answer(ctx.state.room_id, ctx.actor.conn_id, message.version, message.sdp)
    return Outcome(effect=op)


def mute(ctx: Context, message: MediaMute) -> Outcome:
    """A moderator stops someone's source server-side (co-hosts cannot mute the host)."""
    state, target = ctx.state, str(message.user_id)
    if target not in state.participants:
        raise not_found("participant")
    if state.role_of(target) == RoomRole.HOST and state.role_of(ctx.actor.user_id) != RoomRole.HOST:
        raise forbidden("act on the host")
    op = Mute(state.room_id, target, message.source, by=ctx.actor.user_id)
    return Outcome(effect=op)


def record(ctx: Context, message: MediaRecord) -> Outcome:
    """Start or stop recording the room."""
    return Outcome(effect=Record(ctx.state.room_id, ctx.actor.user_id, message.on))
