"""Recordings' part of personal-data export and erasure: the tracks a user was recorded in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import RecordingFile, User

logger = logging.getLogger("liveclass.media")
Forget = Callable[[str], Awaitable[None]]
"""Stops this node's recorders of a user (by id) before their files go."""


async def export_recordings(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Every recorded track of the user (the files themselves: ask a host of the room)."""
    rows = await session.execute(
        select(RecordingFile)
        .where(RecordingFile.user_id == user.id)
        .order_by(RecordingFile.started_at)
    )
    return [
        {
            "id": str(f.id),
            "recording_id": str(f.recording_id),
            "source": f.source,
            "kind": f.kind,
            "started_at": f.started_at.isoformat(),
            "stopped_at": f.stopped_at.isoformat() if f.stopped_at else None,
            "bytes": f.bytes,
            "duration": f.duration,
        }
        for f in rows.scalars()
    ]


class RecordingErasure:
    """Erases a user's recorded tracks on one app's node: files under ``directory`` (after
    ``forget(user_id)`` stopped recording them, if given) and every row."""

    def __init__(self, directory: Path, forget: Forget | None = None) -> None:
        self.directory = directory.resolve()
        self.forget = forget

    async def __call__(self, session: AsyncSession, user: User) -> None:
        """Delete the user's recorded tracks: the files this node holds and every row."""
        if self.forget is not None:
            await self.forget(str(user.id))
        query = select(RecordingFile.path).where(RecordingFile.user_id == user.id)
        for relative in (await session.execute(query)).scalars():
            path = (self.directory / relative).resolve()
            if path.is_relative_to(self.directory):
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    logger.exception("recording file not erased", extra={"path": str(path)})
        await session.execute(delete(RecordingFile).where(RecordingFile.user_id == user.id))


def register(registry: PersonalData, directory: Path, *, forget: Forget | None = None) -> None:
    """Add the recordings section to the app's personal-data registry (files under
    ``directory``); ``forget(user_id)`` stops recording someone whose data is erased."""
    erase = RecordingErasure(directory, forget)
    registry.contributes("recordings", export=export_recordings, erase=erase)
