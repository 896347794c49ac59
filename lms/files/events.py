"""The event the files domain emits (jobs/events.py): a file finished uploading. The video
domain starts a transcode on it when the file is a video."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class FileUploaded(BaseModel):
    """An upload completed and its file is stored."""

    file_id: int = Field(description="The file (GET /api/v1/files/{id}).")
    course_id: uuid.UUID = Field(description="Its course.")
    uploader_id: uuid.UUID | None = Field(description="Who uploaded it.")
    name: str = Field(description="Its sanitised name.")
    size: int = Field(description="Its size in bytes.")
    blake3: str | None = Field(default=None, description="The BLAKE3 digest of its bytes (hex).")
    sha256: str | None = Field(
        default=None, description="The SHA-256 of its bytes: files stored before BLAKE3."
    )
    content_type: str = Field(description="Its type, sniffed from its bytes.")
    blob_key: str = Field(description="Where the blob store keeps its bytes.")
    uploaded_at: datetime = Field(description="When it completed (UTC).")


FILE_UPLOADED = EventType(
    "file.uploaded",
    FileUploaded,
    aggregate="file",
    summary="A course file finished uploading (videos are then transcoded).",
)
