"""The append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did what to which target, from where, when, and how it ended."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "at"),
        Index(None, "actor_id", "at"),
        Index(None, "action", "target_id", "at"),
        Index(None, "action", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_kind: Mapped[str] = mapped_column(String(20), default="user")
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(40), default=None)
    target_id: Mapped[str | None] = mapped_column(String(320), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
