"""Outgoing webhooks: the endpoints admins register and every delivery made to them.

Written by ``lms/webhooks`` only. A delivery is one event (or a test message) for one
endpoint: its ``webhook_id`` is the ``webhook-id`` header of every attempt, so a receiver
dedupes retries and redeliveries on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEndpoint(Base):
    """A receiver's URL, the event types it wants (``None``: every type) and its secrets.

    ``secret`` signs every request; after a rotation ``previous_secret`` signs too until
    ``previous_expires_at``. ``enabled`` turns false when an admin disables it or when a
    delivery failed for its whole retry schedule (``disabled_reason`` says which).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), default=None)
    previous_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    failure_streak: Mapped[int] = mapped_column(default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One message for one endpoint, from its first attempt to ``delivered`` or ``failed``.

    ``status`` is ``pending`` while attempts remain (the next at ``next_attempt_at``).
    ``body`` is the exact JSON sent (every attempt sends the same bytes); the response
    excerpt and error are the last attempt's; ``attempt_log`` keeps a line per attempt.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(None, "endpoint_id", "id"),
        Index(None, "endpoint_id", "status", "id"),
        Index(None, "event_id", "endpoint_id", unique=True),
        Index(None, "webhook_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_excerpt: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    duration_ms: Mapped[float | None] = mapped_column(Float, default=None)
    attempt_log: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
