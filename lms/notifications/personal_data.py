"""The notifications domain's part of privacy export and erasure: the inbox, the
preferences and the push subscriptions (erasure deletes them all)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.notifications import service
from lms.personal_data import PersonalData
from persistence.models import Notification, PushSubscription, User


async def export_notifications(session: AsyncSession, user: User) -> dict[str, Any]:
    """Every notification of the user, their preferences and push subscriptions."""
    rows = await session.execute(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    subscriptions = await session.execute(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
    )
    return {
        "inbox": [
            {
                "id": n.id,
                "category": n.category,
                "title": n.title,
                "body": n.body,
                "link": n.link,
                "created_at": n.created_at.isoformat(),
                "read_at": n.read_at.isoformat() if n.read_at else None,
                "emailed_at": n.emailed_at.isoformat() if n.emailed_at else None,
            }
            for n in rows.scalars()
        ],
        "preferences": {
            k: v.value for k, v in (await service.preferences(session, user.id)).items()
        },
        "push_subscriptions": [
            {"endpoint": s.endpoint, "created_at": s.created_at.isoformat()}
            for s in subscriptions.scalars()
        ],
    }


async def erase_notifications(session: AsyncSession, user: User) -> None:
    """Delete the user's notifications, preferences and push subscriptions."""
    await service.forget_user(session, user.id)


def register(registry: PersonalData) -> None:
    """Add the notifications section to the app's personal-data registry."""
    registry.contributes("notifications", export=export_notifications, erase=erase_notifications)
