"""Encoding room traffic: events become frames once, shared by every connection they reach."""

from __future__ import annotations

from typing import Any

import orjson

from realtime.broker import Publication
from realtime.connection import Frame
from rooms.state import Event

VOLATILE_SUFFIX = ":volatile"


class EventFrame(bytes):
    """A sequenced event as sent to clients, remembering its offset and audience."""

    offset: int
    audience: dict[str, Any] | None

    @classmethod
    def of(cls, publication: Publication, event_audience: dict[str, Any] | None) -> EventFrame:
        """Splice ``"seq"`` into the published JSON without re-encoding it."""
        body = publication.payload
        frame = cls(b'{"seq":%d,' % publication.offset + body[1:])
        frame.offset = publication.offset
        frame.audience = event_audience
        return frame


class VolatileFrame(bytes):
    """An unsequenced event (typing, emoji), possibly for a limited audience."""

    audience: dict[str, Any] | None


def channel(room_id: str) -> str:
    """The broker channel of a room's sequenced events."""
    return f"rooms:{room_id}"


def volatile_channel(room_id: str) -> str:
    """The broker channel of a room's unsequenced events (no history)."""
    return f"rooms:{room_id}{VOLATILE_SUFFIX}"


def room_of(channel_name: str) -> str:
    """The room id of either of its channels."""
    return channel_name.removeprefix("rooms:").removesuffix(VOLATILE_SUFFIX)


def encode(event: Event) -> bytes:
    """The published form of an event: private keys (``_…``, stored only) left out."""
    encoded = orjson.dumps({k: v for k, v in event.items() if not k.startswith("_")})
    # Published bytes are kept (broker history); orjson's buffer can be far larger than
    # its content, so keep an exact copy instead.
    return bytes(memoryview(encoded))


def render(publication: Publication) -> Frame:
    """Turn a publication into the frame clients get (decoded once per node)."""
    audience = _audience(publication.payload)
    if publication.channel.endswith(VOLATILE_SUFFIX):
        frame = VolatileFrame(publication.payload)
        frame.audience = audience
        return frame
    return EventFrame.of(publication, audience)


def _audience(payload: bytes) -> dict[str, Any] | None:
    if b'"audience"' not in payload:
        return None
    found = orjson.loads(payload).get("audience")
    return found if isinstance(found, dict) else None


def admits(audience: dict[str, Any] | None, user_id: str, *, host: bool) -> bool:
    """Whether a connection of ``user_id`` (a host or not) may receive the frame."""
    if audience is None:
        return True
    return (host and bool(audience.get("hosts"))) or user_id in audience.get("users", ())


def message(kind: str, **fields: Any) -> bytes:
    """A direct server message (welcome, ack, error, pong) for one connection."""
    return orjson.dumps({"type": kind, **fields})
