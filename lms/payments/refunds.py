"""Refunds by finance staff: full or partial, never more than was paid less what was
refunded (and less refunds still in flight), through the provider with an idempotency key
of the refund's own id. Policy (docs/operations.md): a full refund revokes the entitlement
(course unenrolment as a student, the workshop seat released to the waitlist, a plan stops);
a partial refund keeps it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.courses.events import CourseEvents
from lms.errors import Conflict, InvalidInput
from lms.payments.machine import Signal
from lms.payments.provider import ProviderRefund
from lms.payments.schemas import RefundCreate
from lms.payments.transitions import apply, lock_order
from persistence.models import Order, Refund

REFUNDABLE = ("paid", "fulfilled", "partially_refunded")


async def _sum(session: AsyncSession, order_id: uuid.UUID, *states: str) -> int:
    total = await session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status.in_(states)
        )
    )
    return int(total.scalar_one())


async def begin(
    session: AsyncSession,
    order_id: uuid.UUID,
    body: RefundCreate,
    actor_id: uuid.UUID,
    now: datetime,
) -> tuple[Order, Refund]:
    """Record a pending refund after checking it fits; 409/422 otherwise."""
    order = await lock_order(session, order_id)
    if order.status not in REFUNDABLE or not order.payment_ref:
        raise Conflict("Only a paid order can be refunded.", reason="not_paid")
    in_flight = await _sum(session, order.id, "pending")
    left = order.total - max(order.refunded_amount, await _sum(session, order.id, "succeeded"))
    left -= in_flight
    amount = body.amount if body.amount is not None else left
    if amount <= 0 or amount > left:
        raise InvalidInput(
            "The refund is larger than what is left of the payment.",
            reason="too_large",
            refundable=max(0, left),
            currency=order.currency,
        )
    refund = Refund(
        order_id=order.id,
        amount=amount,
        currency=order.currency,
        status="pending",
        reason=body.reason,
        actor_id=actor_id,
        created_at=now,
    )
    session.add(refund)
    await session.flush()
    return order, refund


async def settle(
    session: AsyncSession,
    refund_id: uuid.UUID,
    result: ProviderRefund | None,
    now: datetime,
    course_events: CourseEvents | None,
) -> tuple[Order, Refund]:
    """The provider answered (``None``: it refused): the refund and the order follow."""
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    order = await lock_order(session, refund.order_id)
    await session.refresh(refund)
    if refund.status == "succeeded" and (result is None or result.status.value == "failed"):
        return order, refund  # the provider's event said it succeeded before we heard back
    if refund.status == "failed":
        return order, refund  # its failure event came first: failed is final
    if result is None or result.status.value == "failed":
        refund.status = "failed"
        return order, refund
    refund.status, refund.refund_ref = "succeeded", result.refund_ref
    await session.flush()
    total = await _sum(session, order.id, "succeeded")
    await apply(
        session, order, Signal.REFUNDED, now, refunded_total=total, course_events=course_events
    )
    return order, refund


async def of_order(session: AsyncSession, order_id: uuid.UUID) -> list[Refund]:
    rows = await session.execute(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at, Refund.id)
    )
    return list(rows.scalars())
