"""Captions in a room (Sans-I/O): captioners' typed lines, who captions, the automatic switch.

A captioner (a host, or someone a host assigned with ``caption.assign``; the grant
``caption``) sends ``caption.send``: partial updates of an utterance go to everyone as the
volatile ``caption.partial``; the final text becomes the sequenced ``caption.line``, stored
as a transcript line and kept among the room's recent lines, so a viewer who reconnects
gets it back. Automatic captions (``rooms/auto_captions.py``) publish the same two events
with ``source: "auto"``; ``caption.auto`` is the host's per-room switch for them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, not_found
from rooms.messages import CaptionAssign, CaptionAuto, CaptionSend
from rooms.state import Event, RoomState, new_event

MAX_CAPTION_LENGTH = 500
"""Characters in one caption line: about four lines on screen; longer speech is several."""

SECONDS_PER_WORD = 0.4
"""How long a typed line is taken to cover when the captioner does not say (``seconds``)."""


def too_long() -> Rejected:
    """The error an oversized caption line gets (nobody else sees anything)."""
    return Rejected(
        "caption-too-long",
        f"A caption line holds at most {MAX_CAPTION_LENGTH} characters: send it as several.",
    )


def speaker_of(state: RoomState, speaker: uuid.UUID | None) -> tuple[str | None, str]:
    """The named speaker's id and name (``not-found`` unless they are in the room)."""
    if speaker is None:
        return None, ""
    found = state.participants.get(str(speaker))
    if found is None:
        raise not_found("participant")
    return found.user_id, found.name


def line(
    *,
    line_id: str,
    source: str,
    utterance: str,
    speaker: tuple[str | None, str],
    text: str,
    start: datetime,
    end: datetime,
    author_id: str | None = None,
    track_id: str | None = None,
) -> dict[str, Any]:
    """A final caption line in the shape events, snapshots and the transcript use."""
    return {
        "id": line_id,
        "source": source,
        "utterance": utterance,
        "speaker_id": speaker[0],
        "speaker_name": speaker[1],
        "author_id": author_id,
        "track_id": track_id,
        "text": text,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def partial(
    *,
    source: str,
    utterance: str,
    speaker: tuple[str | None, str],
    text: str,
    by: str | None = None,
    track_id: str | None = None,
) -> Event:
    """``caption.partial``: the words so far of an utterance (volatile)."""
    return {
        "type": "caption.partial",
        "source": source,
        "utterance": utterance,
        "text": text,
        "speaker_id": speaker[0],
        "speaker_name": speaker[1],
        "by": by,
        "track_id": track_id,
    }


def send(ctx: Context, message: CaptionSend) -> Outcome:
    """A captioner's line: partial updates to everyone now, the final one stored too."""
    if len(message.text) > MAX_CAPTION_LENGTH:
        raise too_long()
    speaker = speaker_of(ctx.state, message.speaker)
    utterance = f"h:{ctx.actor.user_id}:{message.utterance}"
    if not message.final or not message.text:
        event = partial(
            source="human",
            utterance=utterance,
            speaker=speaker,
            text=message.text,
            by=ctx.actor.user_id,
        )
        return Outcome(volatile=[event])
    seconds = message.seconds
    if seconds is None:
        seconds = min(max(len(message.text.split()) * SECONDS_PER_WORD, 1.0), 10.0)
    entry = line(
        line_id=ctx.new_id(),
        source="human",
        utterance=utterance,
        speaker=speaker,
        text=message.text,
        start=ctx.now - timedelta(seconds=seconds),
        end=ctx.now,
        author_id=ctx.actor.user_id,
    )
    return Outcome(events=[ctx.event("caption.line", line=entry)], reply={"line_id": entry["id"]})


def assign(ctx: Context, message: CaptionAssign) -> Outcome:
    """A host makes someone in the room a captioner (``on``) or no longer one."""
    user_id = str(message.user_id)
    if message.on and user_id not in ctx.state.participants:
        raise not_found("participant")
    if (user_id in ctx.state.captions.captioners) == message.on:
        return Outcome()
    return Outcome(events=[ctx.event("caption.captioner", user_id=user_id, on=message.on)])


def auto(ctx: Context, message: CaptionAuto) -> Outcome:
    """A host turns the node's automatic captions on or off for this room."""
    if ctx.state.captions.auto == message.on:
        return Outcome()
    return Outcome(events=[ctx.event("caption.auto", on=message.on)])


def line_event(entry: dict[str, Any], *, at: str) -> Event:
    """``caption.line`` by the system (automatic captions)."""
    return new_event("caption.line", by=None, at=at, line=entry)


# ---------------------------------------------------------------- reducers


def on_line(state: RoomState, event: Event) -> None:
    entry = event["line"]
    if not state.captions.has_line(entry["id"]):
        state.captions.lines.append(dict(entry))


def on_captioner(state: RoomState, event: Event) -> None:
    if event["on"]:
        state.captions.captioners.add(event["user_id"])
    else:
        state.captions.captioners.discard(event["user_id"])


def on_auto(state: RoomState, event: Event) -> None:
    state.captions.auto = bool(event["on"])
