"""The accounts module's part of personal-data export and erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import AccountToken, ApiKey, RefreshToken, User
from persistence.models.base import utcnow

ERASED_NAME = "Deleted user"


async def export_account(session: AsyncSession, user: User) -> dict[str, Any]:
    """Profile, login sessions and API keys (never hashes)."""
    tokens = await session.execute(
        select(RefreshToken)
        .where(RefreshToken.user_id == user.id)
        .order_by(RefreshToken.created_at)
    )
    keys = await session.execute(select(ApiKey).where(ApiKey.user_id == user.id))
    return {
        "profile": {
            "id": str(user.id),
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "is_active": user.is_active,
            "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat(),
        },
        "sessions": [
            {
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat(),
                "revoked": t.revoked_at is not None,
                "user_agent": t.user_agent,
                "ip": t.ip,
            }
            for t in tokens.scalars()
        ],
        "api_keys": [
            {
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes,
                "created_at": k.created_at.isoformat(),
                "revoked": k.revoked_at is not None,
            }
            for k in keys.scalars()
        ],
    }


async def erase_account(session: AsyncSession, user: User) -> None:
    """Blank the profile and drop sessions and keys; the row stays for references."""
    await session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id))
    await session.execute(delete(ApiKey).where(ApiKey.user_id == user.id))
    await session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    user.email_verified_at = None
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.name = ERASED_NAME
    user.password_hash = "!"  # matches no password: argon2 rejects it as a hash
    user.is_active = False
    user.erased_at = utcnow()
    user.token_version += 1


def register(registry: PersonalData) -> None:
    """Add the accounts section to the app\'s personal-data registry."""
    registry.contributes("account", export=export_account, erase=erase_account)
