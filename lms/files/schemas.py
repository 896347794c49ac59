"""The files API's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field


class FileOut(BaseModel):
    """A course file."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    course_id: uuid.UUID
    name: str
    size: int
    blake3: str | None = Field(description="The BLAKE3 digest of its bytes (hex).")
    sha256: str | None = Field(
        description="The SHA-256 of its bytes (hex): files uploaded before BLAKE3, else null."
    )
    content_type: str = Field(description="Sniffed from the bytes, not the name.")
    uploader_id: uuid.UUID | None
    created_at: datetime


class FilePage(BaseModel):
    """Files oldest first; ``next`` is the cursor of the following page."""

    items: list[FileOut]
    next: str | None


class LinkIn(BaseModel):
    """How the link should make a browser treat the file."""

    disposition: Literal["inline", "attachment"] = Field(
        default="attachment",
        description="inline is honoured for media, PDF and plain text only.",
    )


class LinkOut(BaseModel):
    """A signed download link that needs no credentials until it expires."""

    url: str = Field(description="Path and query on this server (/blobs/...).")
    expires_at: datetime
    disposition: Literal["inline", "attachment"]


FileId = Annotated[int, Path(ge=1, le=2**62, description="A file's id.")]
"""A file id in a path: past the column's range is a 422, not a database error."""
