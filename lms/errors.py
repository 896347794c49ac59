"""Typed errors raised by the REST modules; ``lms.problems`` maps them to RFC 9457 documents."""

from __future__ import annotations

from media.errors import MediaError
from ops.problems import ProblemError


class LmsError(ProblemError):
    """Base of every error a REST module raises on purpose."""


class Unauthorized(LmsError):
    """No valid credentials were presented."""

    status, slug, title = 401, "unauthorized", "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(Unauthorized):
    """Wrong email or password, or a bad refresh token."""

    slug, title = "invalid-credentials", "Invalid credentials"


class Forbidden(LmsError):
    """Authenticated, but not allowed to do this."""

    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(LmsError):
    """The resource does not exist (or the caller may not know it does)."""

    status, slug, title = 404, "not-found", "Not found"


class Conflict(LmsError):
    """The request clashes with the current state, e.g. a duplicate email."""

    status, slug, title = 409, "conflict", "Conflict"


class InvalidInput(LmsError):
    """The request is well-formed but its content is not acceptable."""

    status, slug, title = 422, "invalid-input", "Invalid input"


class TooManyRequests(LmsError):
    """Throttled; ``retry_after`` says in how many seconds to try again."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UnsupportedMediaType(LmsError):
    """The request body is not of a type the endpoint takes."""

    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class MediaRefused(LmsError):
    """A media request the SFU refused (WHIP, recordings), typed by its ``MediaError`` code.

    ``bad-sdp`` is the client's fault (400), ``too-many-tracks`` the room's state (409); any
    other code means this node cannot serve media now (503 ``media-unavailable``).
    """

    PROBLEMS = {
        "bad-sdp": (400, "bad-sdp", "Bad SDP offer"),
        "too-many-tracks": (409, "too-many-tracks", "Too many tracks"),
    }
    UNAVAILABLE = (503, "media-unavailable", "Media unavailable")

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.status, self.slug, self.title = self.PROBLEMS.get(code, self.UNAVAILABLE)

    @classmethod
    def of(cls, error: MediaError) -> MediaRefused:
        """The problem for a media error raised by the SFU."""
        return cls(error.code, error.message)
