"""The audit module's part of personal-data export; records survive erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import AuditEvent, User


async def export_audit(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """The audit records of the user's own actions (kept on erasure, as the law allows)."""
    rows = await session.execute(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
    )
    return [
        {
            "at": e.at.isoformat(),
            "action": e.action,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "ip": e.ip,
            "outcome": e.outcome,
        }
        for e in rows.scalars()
    ]


def register(registry: PersonalData) -> None:
    """Add the audit section to the app\'s personal-data registry."""
    registry.contributes("audit_events", export=export_audit)
