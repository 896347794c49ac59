"""Join tokens: short-lived JWTs saying who may enter which room, as what, to do what.

A join token is a starting point, not a grant that outlives its grounds: when a socket opens
the holder is checked again (`Admit`, supplied by the node): the account must still be
active with the same ``token_version`` (``ver``) it had when the token was minted, and the
role used is the one the room's membership gives *now*; the token's role only stands for
someone the room does not know yet. Removal from the room after ``iat`` also voids it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from rooms.roles import RoomRole

ALGORITHM = "HS256"
AUDIENCE = "liveclass:join"
TTL = timedelta(minutes=10)
"""How long a join token is valid: a reconnect after that needs a new one."""


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
    version: int = 0  # the account's token_version when minted (``ver``)
    issued_at: datetime | None = None  # ``iat``, to the millisecond; set when read


Admit = Callable[[JoinClaims], Awaitable[JoinClaims]]
"""Check a join token's holder against the database when a socket opens; return the claims
with the role and lobby standing the room gives now, or raise a `RealtimeError` (4001 when
the account's sessions were revoked, 4003 when the holder lost access, 4030 when removed)."""


def mint(claims: JoinClaims, *, secret: str, now: datetime, ttl: timedelta) -> str:
    """Sign a join token valid for ``ttl``."""
    issued = round(now.timestamp(), 3)  # NumericDate may have fractions (RFC 7519)
    payload = {
        "aud": AUDIENCE,
        "sub": claims.user_id,
        "name": claims.name,
        "room": claims.room_id,
        "role": claims.role.value,
        "grants": sorted(claims.grants),
        "lobby": claims.lobby,
        "docs": claims.documents,
        "ver": claims.version,
        "iat": issued,
        "exp": issued + ttl.total_seconds(),
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
            options={"require": ["sub", "room", "role", "exp", "iat", "ver"]},
        )
        return JoinClaims(
            room_id=str(uuid.UUID(str(data["room"]))),
            user_id=str(uuid.UUID(str(data["sub"]))),
            name=str(data.get("name", ""))[:200],
            role=RoomRole(data["role"]),
            grants=frozenset(str(g) for g in data.get("grants", [])),
            lobby=bool(data.get("lobby", False)),
            documents={str(k): str(v) for k, v in dict(data.get("docs", {})).items()},
            version=int(data["ver"]),
            issued_at=datetime.fromtimestamp(float(data["iat"]), tz=UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError) as exc:
        raise JoinTokenError(str(exc)) from exc
