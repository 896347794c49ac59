"""Who is calling: resolve a bearer access token or API key to a ``Principal``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.accounts.tokens import TokenError, api_key_prefix, digest, read_access_token, same_digest
from lms.deps import get_settings, writer_sessions
from lms.errors import Unauthorized
from persistence.engine import is_read_only
from persistence.models import ApiKey, User
from persistence.models.base import utcnow

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user, directly or through one of their API keys."""

    user: User
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None

    @property
    def user_id(self) -> uuid.UUID:
        """The acting user's id."""
        return self.user.id

    @property
    def role(self) -> str:
        """The acting user's current platform role (read from the database, not the token)."""
        return self.user.role

    @property
    def kind(self) -> str:
        """``api_key`` or ``user``, for the audit log."""
        return "api_key" if self.api_key_id else "user"


def bearer_token(request: Request) -> str | None:
    """The bearer credential of the request, None if absent; 401 if malformed."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return value.strip()


async def authenticate(request: Request, session: AsyncSession) -> Principal | None:
    """Resolve the caller; None when no credential was sent, 401 when it is not valid."""
    token = bearer_token(request)
    if token is None:
        return None
    if api_key_prefix(token):
        return await _from_api_key(token, session, request)
    return await _from_access_token(token, session, get_settings(request).secret_key)


async def _from_access_token(token: str, session: AsyncSession, secret: str) -> Principal:
    try:
        claims = read_access_token(token, secret=secret)
    except TokenError as exc:
        raise Unauthorized("The access token is invalid or expired.") from exc
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise Unauthorized("The access token is no longer valid.")
    return Principal(user=user)


async def _from_api_key(key: str, session: AsyncSession, request: Request) -> Principal:
    prefix = api_key_prefix(key)
    row = (
        await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
    ).scalar_one_or_none()
    now = utcnow()
    if (
        row is None
        or not same_digest(row.key_hash, digest(key))
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        raise Unauthorized("The API key is invalid, expired or revoked.")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The API key's owner is no longer active.")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await _touch(session, request, row, now)
    return Principal(user=user, api_key_id=row.id, scopes=frozenset(row.scopes))


async def _touch(session: AsyncSession, request: Request, row: ApiKey, now: datetime) -> None:
    """Record when a key was last used (through a writer when this request only reads)."""
    if not is_read_only(session):
        row.last_used_at = now
        await session.commit()
        return
    async with writer_sessions(request)() as writer:
        await writer.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        await writer.commit()
