"""Typed errors raised by the REST modules.

They say what went wrong, not how it reaches a client: the HTTP status, problem type and
headers of each are in ``error_map.PROBLEMS``. Nothing here imports another package's
errors, so importing a REST module never loads the SFU; a media refusal is a
``media.errors.MediaError`` raised as it is, and the table maps it.
"""

from __future__ import annotations

from typing import Any


class LmsError(Exception):
    """Base of every error a REST module raises on purpose.

    ``detail`` is the sentence a client reads; ``extra`` holds further members of the
    problem document (``missing`` grants, ``retry_after``...).
    """

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(LmsError):
    """No valid credentials were presented."""


class InvalidCredentials(Unauthorized):
    """Wrong email or password, or a bad refresh token."""


class Forbidden(LmsError):
    """Authenticated, but not allowed to do this."""


class NotFound(LmsError):
    """The resource does not exist (or the caller may not know it does)."""


class Conflict(LmsError):
    """The request clashes with the current state, e.g. a duplicate email."""


class InvalidInput(LmsError):
    """The request is well-formed but its content is not acceptable."""


class TooManyRequests(LmsError):
    """Throttled; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = max(1, retry_after)


class UnsupportedMediaType(LmsError):
    """The request body is not of a type the endpoint takes."""


class Unavailable(LmsError):
    """This node cannot do it now (a document being deleted, a shutdown); try again shortly."""
