"""Short-lived tokens for a lab's live parts: a workspace editor token (the Yjs channel)
and a feed token (the lab's realtime feed). Each only says who asks for what; the holder
is checked again against the database when the socket opens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

WORKSPACE_AUDIENCE = "liveclass:lab-workspace"
FEED_AUDIENCE = "liveclass:lab-feed"
ALGORITHM = "HS256"
TTL = timedelta(minutes=10)


class TokenError(Exception):
    """The token is invalid, expired or not for this."""


@dataclass(frozen=True)
class Claims:
    """Who holds the token (and their sessions' version) and what it names."""

    user_id: uuid.UUID
    version: int
    subject: str


def mint(
    *, audience: str, user_id: uuid.UUID, version: int, subject: str, secret: str, now: datetime
) -> str:
    """A token for ``subject`` (a document name or a lab id), valid for ``TTL``."""
    issued = round(now.timestamp(), 3)
    payload = {
        "aud": audience,
        "sub": str(user_id),
        "doc": subject,
        "ver": version,
        "iat": issued,
        "exp": issued + TTL.total_seconds(),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read(token: str, *, audience: str, secret: str) -> Claims:
    """The claims of a valid token, or ``TokenError``."""
    if not token or len(token) > 2048:
        raise TokenError("a token is required")
    try:
        data = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            options={"require": ["sub", "doc", "ver", "exp", "iat"]},
        )
        return Claims(uuid.UUID(str(data["sub"])), int(data["ver"]), str(data["doc"]))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError):
        raise TokenError("invalid or expired token") from None
