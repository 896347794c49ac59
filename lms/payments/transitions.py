"""Applying the state machine (machine.py) to a stored order: lock it, step, and do what
the step says (events, releasing a held seat, revoking an entitlement), all in the
caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import EventType, emit
from lms.courses import enrolment
from lms.courses.events import CourseEvents
from lms.errors import Conflict, NotFound
from lms.payments import events, ledger
from lms.payments.machine import Action, OrderState, Outcome, Signal, Status, step
from lms.workshops import seats
from ops.context import request_id_var
from persistence.models import AuditEvent, Coupon, Entitlement, Order, Product, Reservation

LOCK_ORDER = (
    select(Order)
    .where(Order.id == bindparam("order_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
"""``lock_order``'s statement, built once (every acting webhook event and job runs it)."""


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order, its row locked for this transaction and read fresh, in one statement
    (``FOR NO KEY UPDATE`` on PostgreSQL, the lock an UPDATE takes; SQLite's writer holds
    the database's write lock from BEGIN); 404 if none."""
    found = (await session.execute(LOCK_ORDER, {"order_id": order_id})).scalar_one_or_none()
    if found is None:
        raise NotFound("No such order.")
    return found


def state_of(order: Order) -> OrderState:
    return OrderState(
        status=Status(order.status),
        total=order.total,
        refunded=order.refunded_amount,
        fulfilled=order.fulfilled_at is not None and order.revoked_at is None,
        revoked=order.fulfilled_at is not None and order.revoked_at is not None,
    )


KINDS: dict[uuid.UUID, str] = {}
"""Product id -> its kind, as read once by this process: a product's kind is set when it is
made and never changed (``ProductPatch`` has no kind), and a product with orders is never
deleted (their foreign key), so the kind an order's events carry needs no read each time."""
KINDS_KEPT = 10_000


async def product_kind(session: AsyncSession, product_id: uuid.UUID) -> str:
    """The kind of the product ``product_id`` ("" if there is none)."""
    kind = KINDS.get(product_id)
    if kind is not None:
        return kind
    product = await session.get(Product, product_id)
    if product is None:
        return ""
    if len(KINDS) >= KINDS_KEPT:
        KINDS.clear()
    KINDS[product_id] = product.kind
    return product.kind


async def announce(
    session: AsyncSession, event_type: EventType, order: Order, **extra: object
) -> None:
    """Emit ``event_type`` about ``order`` (its payload model is an ``OrderEvent``;
    ``extra`` fills a subclass's own fields)."""
    payload = event_type.payload(
        order_id=order.id,
        user_id=order.user_id,
        product_id=order.product_id,
        kind=await product_kind(session, order.product_id),
        total=order.total,
        currency=order.currency,
        status=order.status,
        refunded_amount=order.refunded_amount,
        **extra,
    )
    await emit(session, event_type, payload, aggregate_id=order.id)


async def apply(
    session: AsyncSession,
    order: Order,
    signal: Signal,
    now: datetime,
    *,
    refunded_total: int = 0,
    payment_ref: str | None = None,
    course_events: CourseEvents | None = None,
    refund_ref: str | None = None,
) -> Outcome:
    """Step the (locked) ``order`` with ``signal`` and carry out the outcome (a refund
    total that grew gets its ledger row: ``refund_ref`` names the provider's refund)."""
    outcome = step(state_of(order), signal, refunded_total)
    if not outcome.changed:
        return outcome
    before = order.refunded_amount
    order.status, order.refunded_amount, order.updated_at = (
        outcome.status.value,
        outcome.refunded,
        now,
    )
    session.add(
        AuditEvent(
            at=now,
            actor_kind="system",
            action=f"payments.order.{order.status}",
            target_type="order",
            target_id=str(order.id),
            request_id=request_id_var.get(),
            detail={
                "signal": signal.value,
                "total": order.total,
                "currency": order.currency,
                "refunded_amount": order.refunded_amount,
            },
        )
    )
    if signal is Signal.PAID:
        order.paid_at = now
        if payment_ref:
            order.payment_ref = payment_ref
        if Action.LATE in outcome.actions:
            order.flag = "paid_after_expiry"
        await announce(session, events.ORDER_PAID, order)
    if signal is Signal.FULFILLED:
        order.fulfilled_at = now
        await announce(session, events.ORDER_FULFILLED, order)
    if Action.RELEASE in outcome.actions:
        await release(session, order, now)
        await announce(session, events.ORDER_EXPIRED, order)
    if Action.REVOKE in outcome.actions:
        await revoke(session, order, now, course_events)
    if Action.RESTORE in outcome.actions:
        await restore(session, order, now)
    if order.refunded_amount > before:
        await ledger.cover(session, order, now, refund_ref)
        await announce(session, events.ORDER_REFUNDED, order)
    return outcome


async def release(session: AsyncSession, order: Order, now: datetime) -> None:
    """An unpaid order ends: its held seat and its coupon use are given back."""
    held = await session.get(Reservation, order.id)
    if held is not None and held.state == "held":
        held.state = "released"
        await seats.release_held_seat(session, held.workshop_id, now)
    elif held is not None and held.state == "offered":
        held.state = "released"  # the offer keeps the seat; its own expiry moves it on
    if order.coupon_id is not None:
        await session.execute(
            update(Coupon)
            .where(Coupon.id == order.coupon_id, Coupon.redemptions > 0)
            .values(redemptions=Coupon.redemptions - 1)
        )


async def revoke(
    session: AsyncSession, order: Order, now: datetime, course_events: CourseEvents | None
) -> None:
    """A fully refunded order's entitlement ends: the course enrolment (as a student) and
    the workshop seat (it goes to the waitlist) are taken back, a plan stops now."""
    order.revoked_at = now
    found = await _granted(session, order, revoked_at=now)
    if found is None:
        return
    _, product, target, user_id = found
    if product.kind == "course":
        await enrolment.unenroll_student(session, target, user_id, course_events)
    elif product.kind == "workshop":
        await seats.withdraw_seat(session, target, user_id, now)


NO_SEAT_BACK = "refund_failed_no_seat"


async def restore(session: AsyncSession, order: Order, now: datetime) -> None:
    """The full refund that revoked the order's entitlement failed at the provider: the
    buyer keeps what they paid for again. The course enrolment comes back, a plan runs to
    the end of its period as bought, and the workshop seat comes back if one is free; if
    the seat went to someone else meanwhile the order is flagged ``refund_failed_no_seat``
    (paid, no seat: finance refunds it again or finds a seat). Runs once per revocation:
    it clears ``revoked_at``, which is what asks for it."""
    order.revoked_at = None
    found = await _granted(session, order, revoked_at=None)
    if found is None:
        return
    grant, product, target, user_id = found
    if product.kind == "course":
        await enrolment.enroll_student(session, target, user_id)
    elif product.kind == "workshop":
        try:
            await seats.hold_seat(session, target, now)
        except Conflict:
            order.flag = NO_SEAT_BACK
            order.revoked_at = grant.revoked_at = now  # no seat behind it: still ended
            return
        await seats.seat_held(session, target, user_id, now)


async def _granted(
    session: AsyncSession, order: Order, *, revoked_at: datetime | None
) -> tuple[Entitlement, Product, uuid.UUID, uuid.UUID] | None:
    """Mark the order's entitlement revoked (or not) as of ``revoked_at``; its product,
    the product's target and the buyer, when all exist (what revoke and restore act on)."""
    grant = (
        await session.execute(select(Entitlement).where(Entitlement.order_id == order.id))
    ).scalar_one_or_none()
    if grant is None:
        return None
    grant.revoked_at = revoked_at
    product = await session.get(Product, grant.product_id)
    if product is None or product.target_id is None or order.user_id is None:
        return None
    return grant, product, product.target_id, order.user_id
