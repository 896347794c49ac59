"""Join tokens: short-lived JWTs saying who may enter which room, as what, to do what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt

from rooms.roles import RoomRole

ALGORITHM = "HS256"
AUDIENCE = "liveclass:join"


class JoinTokenError(Exception):
    """The join token is missing, forged, expired or for another room."""


@dataclass(frozen=True, slots=True)
class JoinClaims:
    """The content of a join token."""

    room_id: str
    user_id: str
    name: str
    role: RoomRole
    grants: frozenset[str]
    lobby: bool = False
    documents: dict[str, str] = field(default_factory=dict)  # doc name -> "read" | "write"


def mint(claims: JoinClaims, *, secret: str, now: datetime, ttl: timedelta) -> str:
    """Sign a join token valid for ``ttl``."""
    payload = {
        "aud": AUDIENCE,
        "sub": claims.user_id,
        "name": claims.name,
        "room": claims.room_id,
        "role": claims.role.value,
        "grants": sorted(claims.grants),
        "lobby": claims.lobby,
        "docs": claims.documents,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read(token: str, *, secret: str) -> JoinClaims:
    """Verify a join token and return its claims, or raise ``JoinTokenError``."""
    try:
        data = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "room", "role", "exp"]},
        )
        return JoinClaims(
            room_id=str(uuid.UUID(str(data["room"]))),
            user_id=str(uuid.UUID(str(data["sub"]))),
            name=str(data.get("name", ""))[:200],
            role=RoomRole(data["role"]),
            grants=frozenset(str(g) for g in data.get("grants", [])),
            lobby=bool(data.get("lobby", False)),
            documents={str(k): str(v) for k, v in dict(data.get("docs", {})).items()},
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise JoinTokenError(str(exc)) from exc
