"""The per-user notification channel's names and tokens (the WebSocket is ``channel.py``).

Each user has one broker channel, ``notify:{user_id}``; the ``notifications.live`` job
publishes there and every node with an open tab of that user fans it out. A tab opens
``WS /ws/notifications?token=...`` with a short-lived channel token from
``POST /api/v1/notifications/channel-token`` (a JWT: browsers cannot set headers on a
WebSocket, and an access token does not belong in a URL).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
AUDIENCE = "liveclass:notifications"
TTL = timedelta(minutes=2)


class ChannelTokenError(Exception):
    """The channel token is missing, forged, expired or meant for something else."""


@dataclass(frozen=True)
class ChannelClaims:
    """Who a channel token is for, and their ``token_version`` when it was minted."""

    user_id: uuid.UUID
    version: int


def channel(user_id: uuid.UUID | str) -> str:
    """The broker channel of ``user_id``'s notifications."""
    return f"notify:{user_id}"


def mint(*, secret: str, user_id: uuid.UUID, version: int, now: datetime) -> str:
    """A channel token for ``user_id``, valid for ``TTL``."""
    claims = {
        "aud": AUDIENCE,
        "sub": str(user_id),
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int((now + TTL).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(token: str, *, secret: str) -> ChannelClaims:
    """Verify a channel token; ChannelTokenError if it is not a valid one."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud", "ver"]},
        )
        return ChannelClaims(uuid.UUID(str(claims["sub"])), int(claims["ver"]))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ChannelTokenError(str(exc)) from exc
