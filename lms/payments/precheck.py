"""The first statement of an order's transaction: one read that finds the product and its
price and tells whether a workshop seat can be had at all.

When 200 buyers race for 50 seats, 150 of them must be told "full", and they should cost
little: before this read, each of them wrote its ``Idempotency-Key`` row, locked its user
row, read the product, the price, its open orders, the workshop and its registration, and
rolled all of that back. Now a buyer is refused by this one read when it shows the seat is
not to be had (cancelled, started or full) and nothing else could change the answer: no
earlier request with the same key (its stored answer comes first), no seat offered to the
buyer from the waitlist (that seat is theirs), no open or owned order for the workshop (that
409 says more: ``pending`` names the checkout to pay). In every other case the order goes
the full way (``orders.start``), which checks it all again under its locks; the read only
saves the winners from reading the product and the price again, and from reading the
workshop before ``hold_seat`` when it showed seats left and no offer.

Nothing here is locked or written: a seat freed a moment after this read is found by the
next buyer, as it would be by one who came a moment later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lms.payments.duplicates import OPEN, OWNING
from lms.workshops import seats
from persistence.models import (
    IdempotencyKey,
    Order,
    Price,
    Product,
    Workshop,
    WorkshopRegistration,
)


@dataclass(frozen=True)
class Seen:
    """What the read found: the product and its price in the order's currency (None when
    missing: ``orders.start`` answers), and ``plain_seat``: a workshop whose seat can be
    held with no offer to the buyer in the way (``hold_seat`` decides, under its lock)."""

    product: Product | None = None
    price: Price | None = None
    plain_seat: bool = False
    key_seen: bool = False


def _query() -> Select[Product, Price, str, datetime, int, int, bool, bool, bool]:
    """The read, built once with bound parameters (``product_id``, ``currency``,
    ``user_id``, ``scope``, ``key``): building it and its cache key for every one of 200
    racing buyers was a third of its cost. A NULL ``key`` matches no stored key."""
    sibling = aliased(Product)
    same_thing = select(sibling.id).where(
        sibling.kind == Product.kind, sibling.target_id == Product.target_id
    )
    user_id = bindparam("user_id", type_=Order.__table__.c.user_id.type)
    has_order = exists().where(
        Order.user_id == user_id,
        Order.product_id.in_(same_thing.scalar_subquery()),
        Order.status.in_(OPEN + OWNING),
    )
    offered = exists().where(
        WorkshopRegistration.workshop_id == Product.target_id,
        WorkshopRegistration.user_id == user_id,
        WorkshopRegistration.status == "offered",
    )
    key_seen = exists().where(
        IdempotencyKey.scope == bindparam("scope"), IdempotencyKey.key == bindparam("key")
    )
    return (
        select(
            Product,
            Price,
            Workshop.status,
            Workshop.first_start,
            Workshop.seats_taken,
            Workshop.capacity,
            has_order.label("has_order"),
            offered.label("offered"),
            key_seen.label("key_seen"),
        )
        .outerjoin(
            Price, and_(Price.product_id == Product.id, Price.currency == bindparam("currency"))
        )
        .outerjoin(Workshop, and_(Product.kind == "workshop", Workshop.id == Product.target_id))
        .where(Product.id == bindparam("product_id"))
    )


LOOK = _query()


async def look(
    session: AsyncSession,
    *,
    product_id: uuid.UUID,
    currency: str,
    user_id: uuid.UUID,
    scope: str,
    key: str | None,
    now: datetime,
) -> Seen:
    """One read (see the module doc); raises the 409 ``hold_seat`` would when no seat can
    be had and nothing else decides first."""
    params = {
        "product_id": product_id,
        "currency": currency,
        "user_id": user_id,
        "scope": scope,
        "key": key,
    }
    row = (await session.execute(LOOK, params)).one_or_none()
    if row is None:
        return Seen()
    product, price, status, first_start, taken, capacity, has, offer, seen = row
    if status is None or not product.active or price is None or has or offer or seen:
        return Seen(product, price, key_seen=bool(seen))
    refused = seats.hold_refusal(status, first_start, taken, capacity, now)
    if refused is not None:
        raise refused
    return Seen(product, price, plain_seat=True)
