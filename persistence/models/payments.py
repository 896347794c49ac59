"""Payments (issue 21): the catalogue (products, prices, coupons), orders and their seat
reservations, refunds, provider events as received, plan entitlements, the offline
provider's checkout sessions, and stored answers of idempotent requests.

Money is an integer of minor units with its ISO 4217 currency. Orders keep no card data;
an erased buyer's orders stay (the law wants them) with the person pseudonymised.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, JSONType, new_id, utcnow


class Product(Base):
    """Something sold: a course, a workshop seat, or a plan (its period and features)."""

    __tablename__ = "payment_products"
    __table_args__ = (Index(None, "kind", "target_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))  # course | workshop | plan
    name: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[uuid.UUID | None] = mapped_column()  # the course or workshop
    period: Mapped[str | None] = mapped_column(String(10))  # plans: month | year
    features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Price(Base):
    """A product's price in one currency (one per currency)."""

    __tablename__ = "payment_prices"
    __table_args__ = (UniqueConstraint("product_id", "currency"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_products.id", ondelete="CASCADE")
    )
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount: Mapped[int] = mapped_column(BigInteger)


class Coupon(Base):
    """A discount: a percentage, or an amount in one currency; limits and expiry."""

    __tablename__ = "payment_coupons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    per_user_limit: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime | None] = mapped_column()
    product_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: all
    user_id: Mapped[uuid.UUID | None] = mapped_column(  # only this person may use it
        ForeignKey("users.id", ondelete="CASCADE")
    )
    redemptions: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    """One purchase of one product, priced on the server, and its state."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "status", "expires_at"),
        Index(None, "provider", "session_id"),
        Index(None, "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    buyer: Mapped[str] = mapped_column(String(64))  # pseudonym kept after erasure
    email: Mapped[str | None] = mapped_column(String(320))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_products.id"))
    product_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_coupons.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(24), default="pending")
    provider: Mapped[str | None] = mapped_column(String(20))
    session_id: Mapped[str | None] = mapped_column(String(255))
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column()
    paid_at: Mapped[datetime | None] = mapped_column()
    fulfilled_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    flag: Mapped[str | None] = mapped_column(String(40))  # e.g. paid_without_seat
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reservation(Base):
    """A limited seat held for an order while its buyer pays (released on expiry)."""

    __tablename__ = "payment_reservations"
    __table_args__ = (Index(None, "state", "expires_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_orders.id", ondelete="CASCADE"), primary_key=True
    )
    workshop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # held | offered (the buyer's waitlist offer is the seat) | converted | released
    state: Mapped[str] = mapped_column(String(20), default="held")
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Refund(Base):
    """Money given back on an order (full or partial), by whom and why."""

    __tablename__ = "payment_refunds"
    __table_args__ = (Index(None, "order_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_orders.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    refund_ref: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A refund the provider failed after accepting it: its reason and when we heard.
    failure_reason: Mapped[str | None] = mapped_column(String(100))
    failed_at: Mapped[datetime | None] = mapped_column()


class PaymentEvent(Base):
    """A provider webhook as received: raw body, provider event id (deduplicated on)."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"), Index(None, "order_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(40))
    raw_type: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[uuid.UUID | None] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    flag: Mapped[str | None] = mapped_column(String(40))  # unknown_order, ...
    outcome: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Entitlement(Base):
    """What a fulfilled order gives: a plan's features for a period (courses and seats
    are the enrolment and registration themselves, recorded here too)."""

    __tablename__ = "payment_entitlements"
    __table_args__ = (Index(None, "user_id", "period_end"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_orders.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_products.id"))
    kind: Mapped[str] = mapped_column(String(20))
    features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime | None] = mapped_column()  # None: no end (course, seat)
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfflineSession(Base):
    """The offline provider's own record of a checkout (as a provider would keep it)."""

    __tablename__ = "payment_offline_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open")
    payment_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    success_url: Mapped[str] = mapped_column(Text)
    cancel_url: Mapped[str] = mapped_column(Text)
    webhook_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OfflineRefund(Base):
    """The offline provider's own record of a refund it made (so it can fail one later,
    as a card network can)."""

    __tablename__ = "payment_offline_refunds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="succeeded")  # | failed
    refund_key: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """A request made with an ``Idempotency-Key``: its fingerprint and stored answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"), Index(None, "expires_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
