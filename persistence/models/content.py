"""Learning content: a course's modules, the items in them, pages, and each learner's
progress through the items (Canvas-style modules with completion requirements)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow
from persistence.models.files import BIG_ID


class CourseModule(Base):
    """An ordered unit of a course; students see it once published and unlocked."""

    __tablename__ = "course_modules"
    __table_args__ = (Index(None, "course_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    unlock_at: Mapped[datetime | None] = mapped_column(default=None)
    # Ids of earlier modules of the same course a learner must complete first.
    prerequisites: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModuleItem(Base):
    """One thing to learn from in a module: a page, a file, a video, a link, a live session
    (and, from later domains, an assessment or a workshop), with its completion requirement."""

    __tablename__ = "module_items"
    __table_args__ = (Index(None, "module_id", "position"), Index(None, "course_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    module_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("course_modules.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the item shows: a page, file, video or room id (by kind), or a URL for a link.
    target_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # A file item's file (files have integer ids); deleting the file removes the item.
    file_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("files.id", ondelete="CASCADE"), default=None, index=True
    )
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    # view | mark_done | watch (with min_watch) | submit
    requirement: Mapped[str] = mapped_column(String(20), default="view")
    min_watch: Mapped[float] = mapped_column(Float, default=0.9)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Page(Base):
    """A course page: its body is the Yjs document `courses/{course}/pages/{page}`, edited
    live; students read the HTML rendered from the snapshot taken when it was published."""

    __tablename__ = "pages"
    __table_args__ = (Index(None, "course_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    published_markdown: Mapped[str | None] = mapped_column(Text, default=None)
    published_html: Mapped[str | None] = mapped_column(Text, default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ItemProgress(Base):
    """One learner's progress on one item: viewed, watched share, submitted, completed."""

    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("item_id", "user_id"), Index(None, "course_id", "user_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module_items.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Seconds of the video actually played, as merged [start, end) intervals.
    watched: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    watched_share: Mapped[float] = mapped_column(Float, default=0.0)
    # The video's length the share is of (the player's first report until the server knows).
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
