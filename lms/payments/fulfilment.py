"""Fulfilment: the ``payments.fulfil`` consumer of ``payments.order_paid`` grants the
order's entitlement in the consumer's own transaction, which also records the event as
consumed, so it happens exactly once however often the event is delivered; the order's
row lock and its state (only a ``paid`` order is fulfilled) make repeats and races no-ops.

- course: the buyer is enrolled as a student (lms/courses/enrolment.py);
- workshop: the seat held for the order becomes their registration (lms/workshops/seats),
  or the seat offered to the buyer from the waitlist (a reservation in state ``offered``);
  a payment that arrived after the hold was released takes a free seat if there is one,
  otherwise the order is flagged ``paid_without_seat`` and refunded in full automatically
  (autorefund.py);
- plan: an entitlement for one period from now, or from the end of the buyer's current
  period of the same plan (a renewal); a lapsed period's features stop, nothing is deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Consumer, Event
from lms.courses import enrolment
from lms.errors import Conflict, NotFound
from lms.payments import autorefund, events
from lms.payments.machine import Signal
from lms.payments.transitions import apply
from lms.workshops import seats
from persistence.models import Entitlement, Order, Product, Reservation
from persistence.models.base import as_utc, utcnow


def period_end(start: datetime, period: str | None) -> datetime | None:
    if period == "month":
        return start + relativedelta(months=1)
    if period == "year":
        return start + relativedelta(years=1)
    return None


async def _plan_start(session: AsyncSession, order: Order, now: datetime) -> datetime:
    latest = await session.execute(
        select(func.max(Entitlement.period_end)).where(
            Entitlement.user_id == order.user_id,
            Entitlement.product_id == order.product_id,
            Entitlement.revoked_at.is_(None),
        )
    )
    end = latest.scalar_one_or_none()
    return max(now, as_utc(end)) if end is not None else now


async def _seat(
    session: AsyncSession,
    order: Order,
    held: Reservation | None,
    workshop_id: uuid.UUID,
    now: datetime,
) -> bool:
    assert order.user_id is not None
    offered = held is not None and held.state == "offered"
    if offered and await seats.take_offer(session, workshop_id, order.user_id, now):
        assert held is not None
        held.state = "converted"
        return True
    if held is None or held.state != "held":
        try:
            await seats.hold_seat(session, workshop_id, now)
        except Conflict:
            await autorefund.start(session, order, now)
            return False
        if held is None:
            held = Reservation(
                order_id=order.id, workshop_id=workshop_id, expires_at=now, created_at=now
            )
            session.add(held)
    held.state = "converted"
    await seats.seat_held(session, workshop_id, order.user_id, now)
    return True


LOCK_PAID = (
    select(Order, Product, Reservation)
    .outerjoin(Product, Product.id == Order.product_id)
    .outerjoin(Reservation, Reservation.order_id == Order.id)
    .where(Order.id == bindparam("order_id"))
    .with_for_update(of=Order, key_share=True)
    .execution_options(populate_existing=True)
)
"""The order (locked, as ``lock_order``), its product and its reservation, in one statement
built once (was three: the lock, then a read of each). The product and reservation come
from the statement's snapshot, taken before any wait for the order's lock: a reservation
changes only with its order locked and its order's status moved on (released: expired or
failed; converted: fulfilled), so one that changed while we waited comes with an order no
longer ``paid``, which is not fulfilled; the product is not locked either way."""


async def fulfil(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Grant a paid order's entitlement (nothing for any other state)."""
    found = (await session.execute(LOCK_PAID, {"order_id": order_id})).first()
    if found is None:
        raise NotFound("No such order.")
    order, product, held = found
    if order.status != "paid" or order.user_id is None or product is None:
        return
    now = utcnow()
    start, end = now, None
    if product.kind == "course" and product.target_id is not None:
        await enrolment.enroll_student(session, product.target_id, order.user_id)
    elif product.kind == "workshop" and product.target_id is not None:
        if not await _seat(session, order, held, product.target_id, now):
            return
    elif product.kind == "plan":
        start = await _plan_start(session, order, now)
        end = period_end(start, product.period)
    session.add(
        Entitlement(
            order_id=order.id,
            user_id=order.user_id,
            product_id=product.id,
            kind=product.kind,
            features=list(product.features or []),
            period_start=start,
            period_end=end,
            created_at=now,
        )
    )
    await apply(session, order, Signal.FULFILLED, now)


async def _on_paid(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, events.OrderEvent)
    await fulfil(session, payload.order_id)


FULFIL = Consumer("payments.fulfil", (events.ORDER_PAID.name,), _on_paid, max_attempts=20)


async def active_features(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> tuple[list[Entitlement], list[str]]:
    """The person's entitlements (newest first) and the plan features in force now."""
    rows = list(
        (
            await session.execute(
                select(Entitlement)
                .where(Entitlement.user_id == user_id)
                .order_by(Entitlement.created_at.desc(), Entitlement.id)
                .limit(500)
            )
        ).scalars()
    )
    features: set[str] = set()
    for row in rows:
        if is_active(row, now) and row.kind == "plan":
            features.update(row.features or [])
    return rows, sorted(features)


def is_active(row: Entitlement, now: datetime) -> bool:
    if row.revoked_at is not None or row.period_start > now:
        return False
    return row.period_end is None or now < row.period_end
