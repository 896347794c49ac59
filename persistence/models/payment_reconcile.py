"""Payments reconciliation (issue 21): each run of the comparison between our orders and
refunds and the provider's payments over a window, and the differences it found.

No personal data: orders are named by id, amounts and provider references only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, utcnow


class ReconcileRun(Base):
    """One comparison over ``[window_start, window_end)`` with one provider."""

    __tablename__ = "payment_reconcile_runs"
    __table_args__ = (Index(None, "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | manual
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    # running | clean | differences | failed
    status: Mapped[str] = mapped_column(String(20), default="running")
    orders_checked: Mapped[int] = mapped_column(Integer, default=0)
    provider_payments: Mapped[int] = mapped_column(Integer, default=0)
    differences: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class ReconcileDifference(Base):
    """One thing on which our records and the provider's disagree."""

    __tablename__ = "payment_reconcile_differences"
    __table_args__ = (Index(None, "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_reconcile_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[uuid.UUID | None] = mapped_column()
    session_id: Mapped[str | None] = mapped_column(String(255))
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    ours_amount: Mapped[int | None] = mapped_column(BigInteger)
    theirs_amount: Mapped[int | None] = mapped_column(BigInteger)
    ours: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    theirs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
