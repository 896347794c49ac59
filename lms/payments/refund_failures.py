"""Refunds that fail at the provider after it accepted them (Stripe's ``refund.failed``,
``refund.updated`` / ``charge.refund.updated`` with status failed or canceled; the offline
provider's ``refund.failed``): a card closed since the payment, a bank that bounces it.

``fail`` (in the webhook's transaction, the order locked) marks the refund's ledger row
``failed`` with the provider's reason (a refund we never heard of gets a failed row, so its
own late success events are recognised), lowers the order's refunded amount to what the
refunds that stand add up to and steps the order back (machine.py: ``partially_refunded``,
or ``fulfilled`` / ``paid`` when nothing else was refunded). An entitlement its full refund
revoked is restored once (transitions.restore); an order refunded in full before it was ever
granted is fulfilled now (``payments.order_paid`` again), unless it was refunded
automatically for want of a seat. The order is flagged ``refund_failed``
(``auto_refund_failed`` for an automatic refund, ``refund_failed_no_seat`` when the workshop
seat could not come back) so finance sees it in the order list, the failure is audited
(``payments.refund.failed``), ``payments.refund_failed`` is emitted and the buyer gets a
notification (their refund receipt said the money was coming). A second event about the
same failure changes nothing.

Once an order has a failed refund, cumulative refunded totals in older events cannot be
trusted (they may still count the failed refund): ``screen`` makes the webhook path ignore
an event about a failed refund (``stale``), take the total from the refund ledger for an
event that names its refund, and re-read the provider for one that names none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.courses.events import CourseEvents
from lms.notifications import service as notifications
from lms.notifications.categories import ACCOUNT
from lms.payments import autorefund, events, ledger
from lms.payments.ledger import ProviderRefundSeen
from lms.payments.machine import Action, Signal
from lms.payments.receipts import money
from lms.payments.transitions import NO_SEAT_BACK, announce, apply
from ops.context import request_id_var
from persistence.models import AuditEvent, Order, Refund

FLAG = "refund_failed"
UNKNOWN_REASON = "unknown"

Verdict = Literal["stale", "ledger", "reread"] | None


async def _has_failed(session: AsyncSession, order: Order) -> bool:
    """Whether a refund of the order failed at the provider after it accepted it (one it
    refused outright never counted anywhere)."""
    found = await session.execute(
        select(Refund.id).where(Refund.order_id == order.id, Refund.failed_at.is_not(None)).limit(1)
    )
    return found.first() is not None


async def screen(session: AsyncSession, order: Order, seen: ProviderRefundSeen) -> Verdict:
    """How to treat a refund-succeeded event for ``order``: ``stale`` (it is about a refund
    that failed here: ignore it), ``ledger`` (the order has a failed refund: trust the
    ledger, not the event's cumulative total), ``reread`` (same, and the event names no
    refund: ask the provider), or None (no failed refund: as usual)."""
    if not await _has_failed(session, order):
        return None
    row = await ledger.find(session, order, seen)
    if row is not None and row.status == "failed":
        return "stale"
    if row is None and not seen.ref and not seen.key:
        return "reread"
    return "ledger"


def _flag(order: Order) -> str:
    if order.flag == NO_SEAT_BACK:
        return NO_SEAT_BACK
    if order.flag in (autorefund.NO_SEAT, autorefund.FAILED):
        return autorefund.FAILED
    return FLAG


async def _row(
    session: AsyncSession, order: Order, seen: ProviderRefundSeen, reason: str, now: datetime
) -> Refund | None:
    """The refund's ledger row marked failed; None when it was failed already or cannot be
    placed (no reference and no amount)."""
    row = await ledger.find(session, order, seen)
    if row is not None and row.status == "failed":
        return None
    if row is None:
        if not seen.ref or seen.amount is None or seen.amount <= 0:
            return None
        row = Refund(
            order_id=order.id,
            amount=seen.amount,
            currency=order.currency,
            refund_ref=seen.ref,
            reason=ledger.PROVIDER_REASON,
            actor_id=None,
            created_at=now,
        )
        session.add(row)
    row.status, row.failure_reason, row.failed_at = "failed", reason[:100], now
    if seen.ref and not row.refund_ref:
        row.refund_ref = seen.ref
    await session.flush()
    return row


async def fail(
    session: AsyncSession,
    order: Order,
    seen: ProviderRefundSeen,
    reason: str | None,
    now: datetime,
    course_events: CourseEvents | None,
) -> str:
    """Apply the provider's word that the refund ``seen`` failed to the (locked) ``order``;
    the webhook's outcome: ``refund_failed``, or ``no_change`` for a repeat."""
    why = reason or UNKNOWN_REASON
    row = await _row(session, order, seen, why, now)
    if row is None:
        return "no_change"
    before, refunded_before = order.status, order.refunded_amount
    standing = await ledger.succeeded_sum(session, order.id, pending=True)
    outcome = await apply(
        session,
        order,
        Signal.REFUND_FAILED,
        now,
        refunded_total=standing,
        course_events=course_events,
    )
    restored = Action.RESTORE in outcome.actions and order.revoked_at is None
    unseated = order.flag in (autorefund.NO_SEAT, autorefund.FAILED)
    if outcome.changed and order.status == "paid" and order.fulfilled_at is None and not unseated:
        # Refunded before it was ever granted: fulfilment runs again (once: it needs ``paid``).
        await announce(session, events.ORDER_PAID, order)
    order.flag = _flag(order)
    session.add(
        AuditEvent(
            at=now,
            actor_kind="system",
            action="payments.refund.failed",
            target_type="order",
            target_id=str(order.id),
            request_id=request_id_var.get(),
            outcome="failure",
            detail={
                "refund_id": str(row.id),
                "refund_ref": row.refund_ref,
                "amount": row.amount,
                "currency": row.currency,
                "failure_reason": row.failure_reason,
                "order_status_before": before,
                "order_status": order.status,
                "refunded_before": refunded_before,
                "refunded_amount": order.refunded_amount,
                "restored": restored,
                "flag": order.flag,
            },
        )
    )
    await announce(
        session,
        events.REFUND_FAILED,
        order,
        refund_id=row.id,
        refund_amount=row.amount,
        failure_reason=row.failure_reason or UNKNOWN_REASON,
        restored=restored,
    )
    if order.user_id is not None:
        kept = " Your access is back as it was." if restored else ""
        await notifications.notify(
            session,
            order.user_id,
            ACCOUNT.name,
            f"Your refund did not go through: {order.product_name}",
            f"The payment provider could not return {money(row.amount, row.currency)} to you "
            f"({row.failure_reason}), so the money is still with us.{kept} Our finance "
            "staff have been told and will sort it out with you.",
            f"/purchases/{order.id}",
            key=f"refund-failed-{row.id}",
        )
    return "refund_failed"
