"""The lab's live state as everyone in it reads it (the feed's welcome, `GET .../live`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.labs import workspace_docs
from persistence.models import Lab, LabHelpRequest

QUEUE_LIMIT = 500


async def open_queue(session: AsyncSession, lab_id: uuid.UUID) -> list[int]:
    """The ids of the lab's open help requests, first come first."""
    query = (
        select(LabHelpRequest.id)
        .where(LabHelpRequest.lab_id == lab_id, LabHelpRequest.status == "open")
        .order_by(LabHelpRequest.id)
        .limit(QUEUE_LIMIT)
    )
    return list((await session.scalars(query)).all())


async def live_state(session: AsyncSession, lab_id: uuid.UUID) -> dict[str, Any]:
    """Status, lock, shared workspace, last broadcast and the help queue's order."""
    lab = await session.get(Lab, lab_id)
    if lab is None:
        return {}
    shared = lab.shared_user_id
    return {
        "lab_id": str(lab.id),
        "status": lab.status,
        "locked": lab.locked,
        "shared_user_id": str(shared) if shared else None,
        "shared_document": workspace_docs.document_name(lab.id, shared) if shared else None,
        "broadcast": lab.broadcast,
        "queue": await open_queue(session, lab.id),
    }
