"""The rooms domain's operations other domains call: creating a live room."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Room


async def create_room(
    session: AsyncSession,
    *,
    title: str,
    created_by: uuid.UUID,
    course_id: uuid.UUID | None = None,
    settings: dict[str, Any] | None = None,
) -> Room:
    """A new open room (the caller checked the creator may host it, and audits)."""
    room = Room(title=title, created_by=created_by, settings=settings or {}, course_id=course_id)
    session.add(room)
    await session.flush()
    return room
