"""Recordings' part of personal-data export and erasure: the tracks a user was recorded in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms import privacy
from persistence.models import RecordingFile, User

logger = logging.getLogger("liveclass.media")
_directory: list[Path] = []  # set by ``register``: where this node keeps recordings
# Set by ``register``: stops this node's recorders of a user before their files go.
_forget: list[Callable[[str], Awaitable[None]]] = []


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


async def erase_recordings(session: AsyncSession, user: User) -> None:
    """Delete the user's recorded tracks: the files this node holds and every row."""
    for forget in _forget:
        await forget(str(user.id))
    rows = await session.execute(select(RecordingFile.path).where(RecordingFile.user_id == user.id))
    for relative in rows.scalars():
        for directory in _directory:
            path = (directory / relative).resolve()
            if path.is_relative_to(directory):
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    logger.exception("recording file not erased", extra={"path": str(path)})
    await session.execute(delete(RecordingFile).where(RecordingFile.user_id == user.id))


def register(directory: Path, *, forget: Callable[[str], Awaitable[None]] | None = None) -> None:
    """Add the recordings section to the privacy registry (files under ``directory``);
    ``forget(user_id)`` stops recording someone whose data is erased."""
    _directory[:] = [directory.resolve()]
    _forget[:] = [forget] if forget is not None else []
    privacy.contributes("recordings", export=export_recordings, erase=erase_recordings)
