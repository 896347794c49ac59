"""Request and response bodies of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Kind = Literal["whiteboard", "notes"]
VersionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DocumentOut(BaseModel):
    """A room document's content: notes as Markdown (`text`) and rich text (`rich`, XML),
    a whiteboard as its `shapes` (sorted by `z`, then id) and board `meta`."""

    name: str
    room_id: uuid.UUID
    kind: Kind
    size: int
    content: dict[str, Any]


class VersionIn(BaseModel):
    """A named version to save from the document's current state."""

    model_config = ConfigDict(extra="forbid")
    name: VersionName


class VersionOut(BaseModel):
    """A saved version of a document."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    size: int
    created_by: uuid.UUID | None
    created_at: datetime


class VersionContentOut(VersionOut):
    """A saved version with its content, as `DocumentOut.content`."""

    content: dict[str, Any]
