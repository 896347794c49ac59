"""The webhooks' part of personal-data export and erasure: the endpoints a person
registered (an admin) are listed; erasing the person leaves the endpoints ownerless."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import User, WebhookEndpoint


async def export_endpoints(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """The endpoints ``user`` registered (never their secrets)."""
    found = await session.execute(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.owner_id == user.id)
        .order_by(WebhookEndpoint.id)
    )
    return [
        {
            "id": e.id,
            "url": e.url,
            "description": e.description,
            "event_types": e.event_types,
            "enabled": e.enabled,
            "created_at": e.created_at.isoformat(),
        }
        for e in found.scalars()
    ]


async def erase_owner(session: AsyncSession, user: User) -> None:
    """The endpoints stay (they serve the platform), without their owner."""
    await session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.owner_id == user.id).values(owner_id=None)
    )


def register(registry: PersonalData) -> None:
    """Add the ``webhook_endpoints`` section."""
    registry.contributes("webhook_endpoints", export=export_endpoints, erase=erase_owner)
