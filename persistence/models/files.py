"""Course files (their bytes are blobs in the blob store) and tus uploads in progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class File(Base):
    """A file of a course: a sanitised name, what its bytes are, and where they are kept.
    Its content digest is ``blake3``; files stored before 2026-12-07 have ``sha256``."""

    __tablename__ = "files"
    __table_args__ = (Index(None, "course_id", "id"), Index(None, "blob_key"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    uploader_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    blake3: Mapped[str | None] = mapped_column(String(64), default=None)
    content_type: Mapped[str] = mapped_column(String(100))
    blob_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Upload(Base):
    """A tus upload: its declared length and metadata; the bytes so far are staged on the
    node's disk (their count is the offset). ``file_id`` is set once it completed."""

    __tablename__ = "uploads"
    __table_args__ = (Index(None, "course_id"), Index(None, "expires_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    uploader_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    length: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    node_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    file_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("files.id", ondelete="SET NULL"), default=None
    )


class UploadStage(Base):
    """Where an upload staged in the S3-compatible store stands, for whichever node takes
    its next request: the offset, the multipart upload and its parts' ETags, and the lease
    of the request writing it now (`lms.files.s3_staging`). The bytes past the parts are
    the tail object. Not used with the local store (its staging files carry the offset)."""

    __tablename__ = "upload_stages"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    parts_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    multipart_id: Mapped[str | None] = mapped_column(String(1024), default=None)
    etags: Mapped[list[str]] = mapped_column(default=list)
    lease_token: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
