"""Typed realtime errors, each carrying the WebSocket close code and reason a session closes with.

Codes 1000-1015 are the RFC 6455 registry. Codes 4000-4999 are private use; ours are
4000 + the closest HTTP status minus 400 (4001 ~ 401, 4003 ~ 403, 4008 ~ 408, 4029 ~ 429),
so they read naturally in a browser's `CloseEvent.code`. `error_map.CLOSE_ERRORS` lists
every channel's close errors (these and those of the packages above) in one place.
"""

from __future__ import annotations

from typing import ClassVar, Final

MAX_REASON_BYTES: Final = 123
"""RFC 6455 allows at most 123 bytes of UTF-8 in a close reason."""

NORMAL_CLOSURE: Final = 1000


def _clip(reason: str) -> str:
    return reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")


class RealtimeError(Exception):
    """Base of every realtime error; an unexpected one closes the socket with 1011."""

    close_code: ClassVar[int] = 1011
    default_reason: ClassVar[str] = "internal error"
    reconnect: ClassVar[bool] = True
    """Whether a client should reconnect by itself after this close."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = _clip(reason or self.default_reason)
        super().__init__(self.reason)


class ServerShutdownError(RealtimeError):
    """The node is shutting down or restarting; reconnect (to another node) and recover."""

    close_code = 1001
    default_reason = "server shutting down"


class ResyncError(RealtimeError):
    """The server lost track of a channel's history; reconnect and take a fresh snapshot."""

    close_code = 1012
    default_reason = "reconnect to resync"


class ProtocolError(RealtimeError):
    """The client sent a frame the protocol cannot parse or does not allow."""

    close_code = 1002
    default_reason = "protocol error"
    reconnect = False


class UnsupportedDataError(RealtimeError):
    """The client sent a frame of a type this channel does not accept (text vs binary)."""

    close_code = 1003
    default_reason = "unsupported data"
    reconnect = False


class MessageTooLargeError(RealtimeError):
    """An inbound message exceeded the channel's size cap."""

    close_code = 1009
    default_reason = "message too large"
    reconnect = False


class BrokerUnavailableError(RealtimeError):
    """The broker cannot be reached or is closed; the client should retry with backoff."""

    close_code = 1013
    default_reason = "try again later"


class UnauthorizedError(RealtimeError):
    """The token is missing, invalid or expired; reconnect only with a fresh token."""

    close_code = 4001
    default_reason = "unauthorized"
    reconnect = False


class ForbiddenError(RealtimeError):
    """The token is valid but grants no access to this channel."""

    close_code = 4003
    default_reason = "forbidden"
    reconnect = False


class SlowConsumerError(RealtimeError):
    """The client did not read fast enough and its send queue overflowed; reconnect and recover."""

    close_code = 4008
    default_reason = "slow consumer"


class RateLimitedError(RealtimeError):
    """The client sent too many messages; reconnect after a backoff."""

    close_code = 4029
    default_reason = "rate limited"
