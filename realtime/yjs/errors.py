"""Errors raised by the Yjs protocol core when a peer sends bytes the protocol does not allow.

They extend `realtime.errors.ProtocolError`, so an adapter closes the socket with `close_code`
and `reason` like any other realtime error.
"""

from __future__ import annotations

from realtime.errors import ProtocolError


class YjsError(ProtocolError):
    """Base of every error raised by `realtime.yjs`; closes with 1002 (protocol error)."""

    default_reason = "invalid y-websocket message"


class MalformedMessage(YjsError):
    """A frame is truncated, carries trailing bytes, or holds a value out of range."""

    default_reason = "malformed y-websocket message"


class UnknownMessageType(YjsError):
    """A frame names a message type, or sync/auth subtype, that the protocol does not define."""

    default_reason = "unknown y-websocket message type"

    def __init__(self, message_type: int, *, kind: str = "message") -> None:
        super().__init__(f"unknown {kind} type {message_type}")
        self.message_type = message_type


class MessageTooLarge(YjsError):
    """A frame or awareness payload exceeds its size limit; closes with 1009."""

    close_code = 1009
    default_reason = "message too large"

    def __init__(self, size: int, *, limit: int) -> None:
        super().__init__(f"{size} bytes exceeds the {limit} byte limit")
        self.size = size
        self.limit = limit
