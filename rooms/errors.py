"""Room errors: rejected messages (answered with an ``error`` message) and room close codes."""

from __future__ import annotations

from realtime.errors import ForbiddenError, RealtimeError


class RoomError(Exception):
    """A message the room refuses; the sender gets ``{"type": "error", "code", "message"}``."""

    code = "rejected"

    def __init__(self, code: str, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


class BadMessage(RoomError):
    """Malformed JSON, an unknown type or invalid fields."""


class Rejected(RoomError):
    """Well-formed, but not allowed now: permission, state, rate or slow mode."""


def forbidden(action: str) -> Rejected:
    """The sender's role lacks the grant ``action`` needs."""
    return Rejected("forbidden", f"Your role in this room may not {action}.")


def not_found(what: str) -> Rejected:
    """The message names something the room does not have."""
    return Rejected("not-found", f"No such {what} in this room.")


class RoomFullError(RealtimeError):
    """The room has reached its participant limit."""

    close_code = 4009
    default_reason = "room full"
    reconnect = False


class RoomEndedError(RealtimeError):
    """The class is over; do not reconnect."""

    close_code = 4010
    default_reason = "room ended"
    reconnect = False


class RemovedError(RealtimeError):
    """A host removed this participant (banned when the reason says so)."""

    close_code = 4030
    default_reason = "removed by a host"
    reconnect = False


class LobbyDeniedError(ForbiddenError):
    """A host turned this person away at the lobby."""

    close_code = 4031
    default_reason = "denied entry"
