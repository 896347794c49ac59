"""Collaborative documents: the Yjs update log, its compacted snapshot, and named versions.

A document is known by its name (``rooms/{room_id}/whiteboard``); its state is the snapshot
merged with every update still in the log. Updates are appended before they are broadcast.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")
DOC_NAME_LENGTH = 255


class DocumentUpdate(Base):
    """One Yjs v1 update (possibly several merged), in the order the server accepted them."""

    __tablename__ = "document_updates"
    __table_args__ = (Index(None, "doc", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    doc: Mapped[str] = mapped_column(String(DOC_NAME_LENGTH))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentSnapshot(Base):
    """The compacted state of a document: every update folded in so far, as one update.

    ``version`` grows by one per compaction; a compaction only writes over the version it
    read, so two compactions racing (two nodes) cannot lose each other's updates.
    """

    __tablename__ = "document_snapshots"

    doc: Mapped[str] = mapped_column(String(DOC_NAME_LENGTH), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(default=1)
    folded: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DocumentVersion(Base):
    """A named version of a document, saved on request, that can be restored later."""

    __tablename__ = "document_versions"
    __table_args__ = (Index(None, "doc", "created_at"), Index(None, "created_by"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    doc: Mapped[str] = mapped_column(String(DOC_NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantinedUpdate(Base):
    """A stored update (or snapshot) that no longer applies, moved aside on load or compaction.

    Kept for inspection (an admin lists, reads and discards them); the document loads
    without it, so one bad update cannot make a whole document unreadable.
    """

    __tablename__ = "document_quarantine"
    __table_args__ = (Index(None, "doc", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    doc: Mapped[str] = mapped_column(String(DOC_NAME_LENGTH))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))
    """``log`` (an update of the log) or ``snapshot``."""
    reason: Mapped[str] = mapped_column(String(200))
    stored_at: Mapped[datetime | None] = mapped_column(default=None)
    quarantined_at: Mapped[datetime] = mapped_column(default=utcnow)
