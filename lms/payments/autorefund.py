"""Automatic refunds: a workshop seat paid after its hold lapsed, with no seat left, is
refunded in full through the provider without anyone having to notice.

Fulfilment (``start``, in the consumer's transaction) flags the order ``paid_without_seat``,
records a pending refund (no actor: the system) and enqueues ``payments.auto_refund``; the
job asks the provider with the refund's own idempotency key (retries never refund twice),
settles the refund (the order becomes ``refunded``, which e-mails the buyer a refund receipt
through the receipts path), audits it and puts a notification in the buyer's inbox. A
refund the provider refuses for good leaves the order flagged ``auto_refund_failed`` in the
finance order list."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.notifications import service as notifications
from lms.notifications.categories import WORKSHOPS
from lms.payments import ledger, refunds
from lms.payments.provider import PaymentProvider, ProviderError, ProviderRefund
from lms.payments.receipts import money
from ops.context import request_id_var
from persistence.models import AuditEvent, Order, Refund
from persistence.models.base import utcnow

NO_SEAT = "paid_without_seat"
FAILED = "auto_refund_failed"
REASON = "Paid after the seat hold lapsed and the workshop is full: refunded automatically."


def _audit(session: AsyncSession, now: datetime, action: str, order: Order, **detail: Any) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_kind="system",
            action=action,
            target_type="order",
            target_id=str(order.id),
            request_id=request_id_var.get(),
            outcome=str(detail.pop("outcome", "success")),
            detail={"automatic": True, "currency": order.currency, **detail},
        )
    )


async def start(session: AsyncSession, order: Order, now: datetime) -> Refund:
    """The (locked, paid, unseated) order gets a pending full refund and the job that makes
    it, in the caller's transaction."""
    order.flag = NO_SEAT
    pending = Refund(
        order_id=order.id,
        amount=order.total - order.refunded_amount,
        currency=order.currency,
        status="pending",
        reason=REASON,
        actor_id=None,
        created_at=now,
    )
    session.add(pending)
    await session.flush()
    _audit(
        session,
        now,
        "payments.refund.request",
        order,
        refund_id=str(pending.id),
        amount=pending.amount,
    )
    await enqueue(session, AUTO_REFUND, {"refund_id": str(pending.id)})
    return pending


async def run(ctx: JobContext, *, provider: PaymentProvider) -> None:
    """The job: refund at the provider, then settle, audit and tell the buyer."""
    refund_id = uuid.UUID(str(ctx.args["refund_id"]))
    async with ctx.sessions() as session:
        row = await session.get(Refund, refund_id)
        order = await session.get(Order, row.order_id) if row is not None else None
        await session.commit()
    if row is None or order is None or row.status != "pending":
        return
    result: ProviderRefund | None = None
    error: str | None = None
    if order.payment_ref:
        try:
            result = await provider.refund(
                order.payment_ref, row.amount, row.currency, ledger.key_of(row.id), REASON
            )
        except ProviderError as exc:
            if exc.retryable:
                raise  # the job runs again with the same idempotency key
            error = str(exc)[:200]
    else:
        error = "the order has no payment reference"
    async with ctx.sessions() as session:
        now = utcnow()
        settled, done = await refunds.settle(session, refund_id, result, now, None)
        ok = done.status == "succeeded"
        _audit(
            session,
            now,
            "payments.refund",
            settled,
            outcome="success" if ok else "failure",
            refund_id=str(done.id),
            amount=done.amount,
            order_status=settled.status,
            error=error,
        )
        if not ok:
            settled.flag = FAILED
        elif settled.user_id is not None:
            await notifications.notify(
                session,
                settled.user_id,
                WORKSHOPS.name,
                f"Refunded: {settled.product_name}",
                f"Your payment came after the seat hold lapsed and the workshop was full, so "
                f"{money(done.amount, done.currency)} has been refunded to you in full.",
                f"/purchases/{settled.id}",
                key=f"auto-refund-{done.id}",
            )
        await session.commit()


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("payments.auto_refund runs bound to the provider (auto_refund_job)")


AUTO_REFUND = JobType(
    "payments.auto_refund",
    _unbound,
    max_attempts=10,
    timeout=60.0,
    summary="refund in full an order paid after its seat hold lapsed when no seat is left",
)


def auto_refund_job(provider: PaymentProvider) -> JobType:
    return replace(AUTO_REFUND, handler=partial(run, provider=provider))
