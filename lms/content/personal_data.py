"""The content domain's part of personal-data export and erasure: a learner's progress on
every item (erased with the account); pages they wrote stay with the course, unattributed
(the account's row is anonymised, and `created_by`/`published_by` follow it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import ItemProgress, ModuleItem, User


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


async def export_progress(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """The user's progress on each module item."""
    rows = await session.execute(
        select(ItemProgress, ModuleItem)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .where(ItemProgress.user_id == user.id)
        .order_by(ItemProgress.course_id, ModuleItem.title)
    )
    return [
        {
            "course_id": str(p.course_id),
            "item_id": str(p.item_id),
            "item": i.title,
            "viewed_at": _time(p.viewed_at),
            "watched": p.watched,
            "watched_share": p.watched_share,
            "position": p.position,
            "submitted_at": _time(p.submitted_at),
            "completed_at": _time(p.completed_at),
        }
        for p, i in rows.all()
    ]


async def erase_progress(session: AsyncSession, user: User) -> None:
    """Delete the user's progress rows."""
    await session.execute(delete(ItemProgress).where(ItemProgress.user_id == user.id))


def register(registry: PersonalData) -> None:
    """Add the content section to the app's personal-data registry."""
    registry.contributes("content", export=export_progress, erase=erase_progress)
