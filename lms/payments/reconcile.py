"""Reconciliation: our orders and refunds against the provider's payments over a window.

A run reads every checkout the provider lists as created in ``[since, until)``
(``provider.list_payments``) and every order of ours with that provider created in the same
window, pairs them by checkout session (an order just outside the window is looked up by its
session; a session the list did not bring is read with ``provider.retrieve``) and records
each disagreement (``compare``, pure):

- ``unknown_payment``: the provider took money for a checkout we have no order for;
- ``paid_not_recorded``: the provider took the money, our order is not paid (a webhook lost);
- ``recorded_not_paid``: our order is paid, the provider has no payment for it;
- ``missing_at_provider``: our paid order's session is unknown to the provider;
- ``amount_mismatch``: paid on both sides, but not the same amount or currency;
- ``refund_mismatch``: the provider refunded another total than our order says;
- ``refund_records_mismatch``: our succeeded refund rows do not add up to the order's
  refunded total;
- ``refund_failed``: not a disagreement but a refund the provider failed in the window after
  accepting it (the order was restored; the buyer still waits for their money).

Checkouts still open on both sides, or expired/failed on both, are not differences. The run
and its differences are stored (``payment_reconcile_runs`` / ``_differences``), and an audit
record ``payments.reconcile`` names the run and its counts. The nightly job
(``payments.reconcile``, ``LIVECLASS_PAYMENTS_RECONCILE_SCHEDULE``) covers the 25 hours ending
15 minutes ago (an overlap of an hour with the night before; the last minutes are left to
webhooks still on their way); finance staff can run any window of up to 31 days.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.types import JobContext, JobType, Periodic
from lms.payments.provider import PaymentProvider, ProviderError
from lms.payments.reconcile_compare import (
    MONEY_TAKEN,
    Difference,
    FailedRefund,
    OurOrder,
    compare,
    failed_refunds,
)
from persistence.models import AuditEvent
from persistence.models.base import utcnow
from persistence.models.payment_reconcile import ReconcileDifference, ReconcileRun
from persistence.models.payments import Order, Refund
from settings import Settings

MAX_WINDOW = timedelta(days=31)
NIGHTLY_WINDOW = timedelta(hours=25)
SETTLE = timedelta(minutes=15)
CHUNK = 500


# ------------------------------------------------------------------ reading our side


async def _orders(
    session: AsyncSession, provider: str, since: datetime, until: datetime
) -> list[Order]:
    query = (
        select(Order)
        .where(
            Order.provider == provider,
            Order.session_id.is_not(None),
            Order.created_at >= since,
            Order.created_at < until,
        )
        .order_by(Order.created_at, Order.id)
    )
    return list((await session.execute(query)).scalars())


async def _orders_by_session(
    session: AsyncSession, provider: str, session_ids: Sequence[str]
) -> list[Order]:
    found: list[Order] = []
    for start in range(0, len(session_ids), CHUNK):
        chunk = session_ids[start : start + CHUNK]
        query = select(Order).where(Order.provider == provider, Order.session_id.in_(chunk))
        found.extend((await session.execute(query)).scalars())
    return found


async def _refund_totals(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    totals: dict[uuid.UUID, int] = {}
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        query = (
            select(Refund.order_id, func.coalesce(func.sum(Refund.amount), 0))
            .where(Refund.order_id.in_(chunk), Refund.status == "succeeded")
            .group_by(Refund.order_id)
        )
        for order_id, total in (await session.execute(query)).tuples():
            totals[order_id] = int(total)
    return totals


def _our_order(order: Order, refunds: dict[uuid.UUID, int]) -> OurOrder:
    return OurOrder(
        order_id=order.id,
        session_id=str(order.session_id),
        payment_ref=order.payment_ref,
        status=order.status,
        total=order.total,
        currency=order.currency,
        refunded=order.refunded_amount,
        refunds_succeeded=refunds.get(order.id, 0),
    )


# ------------------------------------------------------------------ a run


async def run(
    sessions: async_sessionmaker[AsyncSession],
    provider: PaymentProvider,
    since: datetime,
    until: datetime,
    *,
    trigger: str = "schedule",
) -> ReconcileRun:
    """Compare ``[since, until)``, store the run and its differences; the run as finished.

    No transaction is held while the provider is asked: the run row commits first (so a
    failed run is visible as ``failed`` with its error), our side is read, the provider
    listed, then the differences and the run's totals commit together."""
    async with sessions() as session:
        record = ReconcileRun(
            provider=provider.name, trigger=trigger, window_start=since, window_end=until
        )
        session.add(record)
        await session.commit()
        run_id = record.id
    try:
        differences, checked, listed = await _gather(sessions, provider, since, until)
    except ProviderError as exc:
        async with sessions() as session:
            failed = await session.get_one(ReconcileRun, run_id)
            failed.status, failed.error, failed.finished_at = "failed", str(exc)[:2000], utcnow()
            await session.commit()
            return failed
    async with sessions() as session:
        done = await session.get_one(ReconcileRun, run_id)
        for item in differences:
            session.add(
                ReconcileDifference(
                    run_id=run_id,
                    kind=item.kind,
                    order_id=item.order_id,
                    session_id=item.session_id,
                    payment_ref=item.payment_ref,
                    currency=item.currency,
                    ours_amount=item.ours_amount,
                    theirs_amount=item.theirs_amount,
                    ours=item.ours,
                    theirs=item.theirs,
                )
            )
        done.orders_checked, done.provider_payments = checked, listed
        done.differences = len(differences)
        done.status = "differences" if differences else "clean"
        done.finished_at = utcnow()
        await session.commit()
        return done


async def _gather(
    sessions: async_sessionmaker[AsyncSession],
    provider: PaymentProvider,
    since: datetime,
    until: datetime,
) -> tuple[list[Difference], int, int]:
    theirs = {p.session_id: p async for p in provider.list_payments(since, until)}
    async with sessions() as session:
        orders = {str(o.session_id): o for o in await _orders(session, provider.name, since, until)}
        outside = [sid for sid in theirs if sid not in orders]
        for order in await _orders_by_session(session, provider.name, outside):
            orders[str(order.session_id)] = order
        refunds = await _refund_totals(session, [o.id for o in orders.values()])
        ours = [_our_order(order, refunds) for order in orders.values()]
    async with sessions() as session:
        failed = await _failed_refunds(session, provider.name, since, until)
    missing: list[str] = []
    for mine in ours:  # sessions the window's list did not bring (created just outside it)
        if mine.session_id in theirs or mine.status not in MONEY_TAKEN:
            continue
        try:
            theirs[mine.session_id] = await provider.retrieve(mine.session_id)
        except ProviderError as exc:
            if exc.retryable:
                raise
            missing.append(mine.session_id)
    found = compare(ours, theirs.values(), missing) + failed_refunds(failed)
    return found, len(ours), len(theirs)


async def _failed_refunds(
    session: AsyncSession, provider: str, since: datetime, until: datetime
) -> list[FailedRefund]:
    query = (
        select(Refund, Order.session_id, Order.payment_ref)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Order.provider == provider,
            Refund.status == "failed",
            Refund.failed_at >= since,
            Refund.failed_at < until,
        )
        .order_by(Refund.failed_at, Refund.id)
    )
    return [
        FailedRefund(
            order_id=row.order_id,
            session_id=session_id,
            payment_ref=payment_ref,
            refund_id=row.id,
            refund_ref=row.refund_ref,
            amount=row.amount,
            currency=row.currency,
            failure_reason=row.failure_reason,
        )
        for row, session_id, payment_ref in (await session.execute(query)).all()
    ]


def audit_record(record: ReconcileRun, actor_id: uuid.UUID | None = None) -> AuditEvent:
    """The audit record of a scheduled run (a manual one is audited by its route)."""
    return AuditEvent(
        actor_id=actor_id,
        actor_kind="user" if actor_id else "system",
        action="payments.reconcile",
        target_type="payment_reconcile_run",
        target_id=str(record.id),
        outcome="success" if record.status != "failed" else "failure",
        detail=run_summary(record),
    )


def run_summary(record: ReconcileRun) -> dict[str, Any]:
    return {
        "provider": record.provider,
        "trigger": record.trigger,
        "window_start": record.window_start.isoformat(),
        "window_end": record.window_end.isoformat(),
        "status": record.status,
        "orders_checked": record.orders_checked,
        "provider_payments": record.provider_payments,
        "differences": record.differences,
    }


def nightly_window(now: datetime) -> tuple[datetime, datetime]:
    until = now - SETTLE
    return until - NIGHTLY_WINDOW, until


def periodic(settings: Settings) -> Periodic:
    """``payments.reconcile`` on ``LIVECLASS_PAYMENTS_RECONCILE_SCHEDULE``."""

    async def reconcile(ctx: JobContext) -> None:
        from lms.payments.providers import build_provider  # the node's choice of provider

        provider = build_provider(settings, ctx.sessions)
        try:
            since, until = nightly_window(utcnow())
            record = await run(ctx.sessions, provider, since, until, trigger="schedule")
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()
        async with ctx.sessions() as session:
            session.add(audit_record(record))
            await session.commit()

    job = JobType(
        "payments.reconcile",
        reconcile,
        max_attempts=3,
        timeout=1800.0,
        summary="compare the last day's orders and refunds with the payment provider's records",
    )
    return Periodic(job, settings.payments_reconcile_schedule)
