"""Pricing an order on the server: the price in the chosen currency less a coupon (pure).

A percentage coupon takes ``round_half_up(amount * percent / 100)`` minor units off; an
amount coupon takes its amount (same currency only) off, never below zero.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lms.errors import InvalidInput


@dataclass(frozen=True)
class CouponTerms:
    code: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    expires_at: datetime | None
    product_ids: tuple[str, ...]
    owner_id: uuid.UUID | None
    active: bool
    max_redemptions: int | None
    redemptions: int
    per_user_limit: int


@dataclass(frozen=True)
class Quote:
    subtotal: int
    discount: int
    total: int
    currency: str


class CouponRefused(InvalidInput):
    """The coupon cannot be used on this order (``reason`` says why)."""


def discount_of(subtotal: int, currency: str, coupon: CouponTerms) -> int:
    if coupon.percent_off is not None:
        return min(subtotal, (subtotal * coupon.percent_off + 50) // 100)
    if coupon.amount_off is not None and coupon.currency == currency:
        return min(subtotal, coupon.amount_off)
    raise CouponRefused(
        "This coupon is in another currency.", reason="currency", coupon=coupon.code
    )


def check_coupon(
    coupon: CouponTerms,
    *,
    product_id: uuid.UUID,
    user_id: uuid.UUID,
    used_by_user: int,
    now: datetime,
) -> None:
    """Refuse a coupon that is off, expired, used up, someone else's or not for this."""

    def refuse(detail: str, reason: str) -> CouponRefused:
        return CouponRefused(detail, reason=reason, coupon=coupon.code)

    if not coupon.active:
        raise refuse("This coupon is no longer valid.", "inactive")
    if coupon.expires_at is not None and now >= coupon.expires_at:
        raise refuse("This coupon has expired.", "expired")
    if coupon.owner_id is not None and coupon.owner_id != user_id:
        raise refuse("This coupon belongs to someone else.", "not_yours")
    if coupon.product_ids and str(product_id) not in coupon.product_ids:
        raise refuse("This coupon does not apply to this product.", "not_applicable")
    if coupon.max_redemptions is not None and coupon.redemptions >= coupon.max_redemptions:
        raise refuse("This coupon has been used up.", "used_up")
    if used_by_user >= coupon.per_user_limit:
        raise refuse("You have already used this coupon.", "per_user_limit")


def quote(unit_amount: int, currency: str, coupon: CouponTerms | None) -> Quote:
    """The order's amounts: price, discount, what is left to pay."""
    discount = discount_of(unit_amount, currency, coupon) if coupon else 0
    return Quote(unit_amount, discount, unit_amount - discount, currency)
