"""Typed media errors; each carries the ``error`` code the room channel answers with."""

from __future__ import annotations


class MediaError(Exception):
    """A media request the server refuses; ``code`` is the wire error code."""

    code = "media-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadSdp(MediaError):
    """Unparseable SDP, no media, a mid/kind mismatch or no supported codec."""

    code = "bad-sdp"


class TooManyTracks(MediaError):
    """The room already forwards as many tracks as it may."""

    code = "too-many-tracks"


class StaleOffer(MediaError):
    """An answer to an offer that is no longer the latest one."""

    code = "stale-offer"


class NotSubscribed(MediaError):
    """An answer from a connection that has no subscriber peer connection."""

    code = "not-subscribed"


class MediaUnavailable(MediaError):
    """The node runs without media (``LIVECLASS_MEDIA_ENABLED=false``) or is closing."""

    code = "media-unavailable"
