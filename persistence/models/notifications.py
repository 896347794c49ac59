"""Notifications: the per-user inbox, delivery preferences per category, Web Push
subscriptions, and the single-use tokens of account e-mails (verification, password reset).

Written by ``lms.notifications`` and ``lms.accounts`` (account tokens) only.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Notification(Base):
    """One entry of a user's inbox. ``event_id`` (unique per user) makes ``notify``
    idempotent: the same cause notifies a person once however often it is delivered.
    ``emailed_at`` is set once its e-mail (immediate or in a digest) has been sent."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        Index(None, "user_id", "id"),
        Index(None, "user_id", "read_at"),
        Index(None, "digest_due", "emailed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    digest_due: Mapped[bool] = mapped_column(default=False)
    emailed_at: Mapped[datetime | None] = mapped_column(default=None)


class NotificationPreference(Base):
    """How one user wants one category delivered by e-mail: immediately, in the daily digest
    or not at all (the inbox always has it). No row: the category's default."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (its endpoint and keys) for one user."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountToken(Base):
    """A single-use, expiring token of an account e-mail. Only a hash of the token is
    stored; the token itself is derived from the row and the node's secret when the e-mail
    is written (so a retried send repeats the same link, and a database copy reveals none)."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index(None, "user_id", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))  # verify_email | password_reset
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
