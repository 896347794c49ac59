"""Login sessions: token pairs, refresh-token rotation with reuse detection, revocation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.accounts.revoked import RevokedHooks
from lms.accounts.schemas import TokenPair
from lms.accounts.tokens import digest, mint_access_token, new_refresh_token
from lms.audit.service import audit_now
from lms.deps import client_ip
from lms.errors import InvalidCredentials
from persistence.models import RefreshToken, User
from persistence.models.base import new_id, utcnow
from settings import Settings


def issue_pair(
    session: AsyncSession,
    request: Request,
    user: User,
    *,
    settings: Settings,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    """Mint an access token and add a refresh token row (new family unless rotating)."""
    now = utcnow()
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or new_id(),
            token_hash=digest(refresh),
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
            user_agent=(request.headers.get("user-agent") or "")[:300] or None,
            ip=client_ip(request),
        )
    )
    access = mint_access_token(
        secret=settings.secret_key,
        user_id=user.id,
        version=user.token_version,
        now=now,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
    )


async def rotate(
    session: AsyncSession, request: Request, refresh: str, *, settings: Settings
) -> tuple[User, TokenPair]:
    """Spend ``refresh`` for a new pair in the same family; reuse revokes the family."""
    row = await _find(session, refresh)
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidCredentials("The refresh token is invalid, expired or revoked.")
    if row.used_at is not None:
        await revoke_family(session, row.family_id)
        await audit_now(
            session,
            request,
            "auth.refresh_reuse",
            actor_id=row.user_id,
            target_type="session",
            target_id=row.family_id,
            outcome="failure",
        )
        raise InvalidCredentials("The refresh token was already used; the session is revoked.")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials("The account is not active.")
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise InvalidCredentials("The refresh token was already used.")
    return user, issue_pair(session, request, user, settings=settings, family_id=row.family_id)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    """Revoke every token of one login session."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_all(session: AsyncSession, user: User, revoked: RevokedHooks) -> None:
    """Sign the user out everywhere: refresh tokens revoked, access tokens invalidated, and
    (once committed) the user's live connections closed.

    Used by logout with ``everywhere``, a password change and an admin's deactivation. Join
    tokens carry the ``token_version`` too, so none minted before this opens a socket.
    """
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    user.token_version += 1
    revoked.notify(session, user)


async def end_session(session: AsyncSession, user: User, refresh: str) -> bool:
    """Revoke the family of ``refresh`` if it belongs to ``user``; tell whether it did."""
    row = await _find(session, refresh)
    if row is None or row.user_id != user.id:
        return False
    await revoke_family(session, row.family_id)
    return True


async def _find(session: AsyncSession, refresh: str) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.token_hash == digest(refresh))
    return (await session.execute(query)).scalar_one_or_none()
