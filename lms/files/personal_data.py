"""The files domain's part of privacy export and erasure: what a person uploaded.

Files are the course's material: erasure keeps them and forgets who uploaded them, and
drops the person's unfinished uploads (their staged bytes go with the expiry job)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import File, Upload, User


async def export_files(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Every file the user uploaded (metadata; the bytes through the files API)."""
    rows = await session.execute(select(File).where(File.uploader_id == user.id).order_by(File.id))
    return [
        {
            "file_id": f.id,
            "course_id": str(f.course_id),
            "name": f.name,
            "size": f.size,
            "sha256": f.sha256,
            "blake3": f.blake3,
            "content_type": f.content_type,
            "created_at": f.created_at.isoformat(),
        }
        for f in rows.scalars()
    ]


async def erase_files(session: AsyncSession, user: User) -> None:
    """Forget the user as uploader; drop their unfinished uploads."""
    await session.execute(update(File).where(File.uploader_id == user.id).values(uploader_id=None))
    await session.execute(
        delete(Upload).where(Upload.uploader_id == user.id, Upload.file_id.is_(None))
    )


def register(registry: PersonalData) -> None:
    """Add the files section to the app's personal-data registry."""
    registry.contributes("files", export=export_files, erase=erase_files)
