"""Request and response bodies of the rooms API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RoleName = Literal["host", "co-host", "presenter", "participant", "observer"]


class RoomSettingsIn(BaseModel):
    """Room settings; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")
    open: bool | None = None
    lobby: bool | None = None
    locked: bool | None = None
    chat_enabled: bool | None = None
    slow_mode_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    whiteboard_locked: bool | None = None
    notes_locked: bool | None = None
    max_participants: Annotated[int, Field(ge=1, le=10_000)] | None = None


class RoomCreate(RoomSettingsIn):
    """A new live room: a title, optionally a course (its people join by course role)."""

    title: Title
    course_id: uuid.UUID | None = None


class RoomUpdate(RoomSettingsIn):
    """Change a room's title or settings (applied live to connected participants)."""

    title: Title | None = None


class RoomOut(BaseModel):
    """A room as its members see it."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    created_by: uuid.UUID
    parent_id: uuid.UUID | None
    course_id: uuid.UUID | None
    status: str
    settings: dict[str, Any]
    created_at: datetime
    ended_at: datetime | None
    my_role: RoleName | None = None


class RoomPage(BaseModel):
    """One page of rooms."""

    items: list[RoomOut]
    total: int
    limit: int
    offset: int


class InviteIn(BaseModel):
    """Invite a user (by id or email) with a room role."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID | None = None
    email: Annotated[EmailStr | None, Field(max_length=320)] = None
    role: RoleName = "participant"


class MemberOut(BaseModel):
    """An invitation or ban."""

    model_config = ConfigDict(from_attributes=True)
    user_id: uuid.UUID
    role: RoleName
    banned: bool
    created_at: datetime


class DocumentAccess(BaseModel):
    """A room document the join token opens, and how."""

    name: str
    url: str
    access: Literal["read", "write"]


class JoinOut(BaseModel):
    """A short-lived join token and where to use it."""

    token: str
    expires_in: int
    room_id: uuid.UUID
    role: RoleName
    grants: list[str]
    lobby: bool
    ws_url: str
    documents: list[DocumentAccess]


class AttendanceOut(BaseModel):
    """One stay of one participant in the room."""

    user_id: uuid.UUID
    name: str
    role: str
    joined_at: datetime
    left_at: datetime | None
    seconds: int


class ChatMessageOut(BaseModel):
    """A chat message in an export."""

    id: uuid.UUID
    author_id: uuid.UUID | None
    author_name: str
    text: str
    to_hosts: bool
    at: datetime
    edited_at: datetime | None
    deleted: bool
