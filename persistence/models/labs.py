"""Hands-on labs (issue 20): a lab of a course, each learner's workspace (a Yjs document),
checkpoint completions, the help queue and the activity timeline.

A lab's steps and template files are kept on the lab row as JSON: they are authored and
read as one whole, and completions name a step by its stable string id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow


class Lab(Base):
    """A lab: instructions (Markdown), ordered steps with hidden tests and points, the
    workspace template (files), and its live state (``draft``/``running``/``ended``, or
    ``archived``: deleted after it started; the "eyes on me" lock, the shared workspace,
    the last broadcast)."""

    __tablename__ = "labs"
    __table_args__ = (Index(None, "course_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    files: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    broadcast: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabWorkspace(Base):
    """A learner's own copy of the template (the Yjs document
    ``labs/{lab_id}/workspaces/{user_id}``) and what the grid shows about it."""

    __tablename__ = "lab_workspaces"
    __table_args__ = (UniqueConstraint("lab_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    resets: Mapped[int] = mapped_column(Integer, default=0)
    last_check: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    progressed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    final_files: Mapped[list[Any] | None] = mapped_column(JSONType)
    """The workspace's files as they were when the lab ended (kept with its grade)."""
    final_at: Mapped[datetime | None]


class LabCompletion(Base):
    """A step a learner passed on the server (the result that counts)."""

    __tablename__ = "lab_completions"
    __table_args__ = (UniqueConstraint("lab_id", "user_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabHelpRequest(Base):
    """A learner's request for help on a step: ``open``, ``taken`` (by an instructor) or
    ``resolved``; served in id order."""

    __tablename__ = "lab_help_requests"
    __table_args__ = (Index(None, "lab_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    taken_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class LabActivity(Base):
    """One entry of a learner's timeline in a lab: joined, ran, checked, asked_help,
    helped, reset."""

    __tablename__ = "lab_activities"
    __table_args__ = (Index(None, "lab_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
