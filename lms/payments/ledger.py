"""The refund ledger: one ``payment_refunds`` row per refund the provider made, whoever
started it (finance staff here, an automatic refund, or someone in the provider's own
dashboard), so the rows always add up to the order's ``refunded_amount``.

A refund is matched, in this order, by our own refund id (the ``refund-{id}`` idempotency
key we send the provider comes back in its events), by the provider's refund reference, and
(for an event that names no reference, like Stripe's ``charge.refunded`` without its refunds
list) by an unlabelled row of the same amount that a reference-less event made earlier. A
refund seen twice, or announced by two events (``refund.created`` and ``charge.refunded``),
is one row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Order, Refund

PROVIDER_REASON = "Refunded at the payment provider."
KEY_PREFIX = "refund-"


def key_of(refund_id: uuid.UUID) -> str:
    """The idempotency key a refund travels to the provider under (and comes back with)."""
    return f"{KEY_PREFIX}{refund_id}"


def _id_of(key: str | None) -> uuid.UUID | None:
    if not key or not key.startswith(KEY_PREFIX):
        return None
    try:
        return uuid.UUID(key[len(KEY_PREFIX) :])
    except ValueError:
        return None


async def succeeded_sum(
    session: AsyncSession, order_id: uuid.UUID, *, pending: bool = False
) -> int:
    """What the order's succeeded refund rows add up to (``pending``: in-flight ones too)."""
    states = ("succeeded", "pending") if pending else ("succeeded",)
    total = await session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status.in_(states)
        )
    )
    return int(total.scalar_one())


@dataclass(frozen=True)
class ProviderRefundSeen:
    """What a provider event says about one refund."""

    ref: str | None  # the provider's refund id, if the event names it
    amount: int | None  # this refund's amount, if known
    key: str | None  # our idempotency key, when we started it


async def find(session: AsyncSession, order: Order, seen: ProviderRefundSeen) -> Refund | None:
    """Our row for the refund ``seen`` describes, if we have one."""
    own = _id_of(seen.key)
    if own is not None:
        row = await session.get(Refund, own)
        if row is not None and row.order_id == order.id:
            return row
    if seen.ref:
        found = await session.execute(
            select(Refund).where(Refund.order_id == order.id, Refund.refund_ref == seen.ref)
        )
        row = found.scalars().first()
        if row is not None:
            return row
        if seen.amount is not None:
            unlabelled = await session.execute(
                select(Refund)
                .where(
                    Refund.order_id == order.id,
                    Refund.refund_ref.is_(None),
                    Refund.status == "succeeded",
                    Refund.actor_id.is_(None),
                    Refund.amount == seen.amount,
                )
                .order_by(Refund.created_at, Refund.id)
            )
            return unlabelled.scalars().first()
    return None


async def note(
    session: AsyncSession, order: Order, seen: ProviderRefundSeen, now: datetime
) -> int | None:
    """Record what a provider's refund event says, in the caller's transaction (the order
    locked): our pending row succeeds, an unlabelled row gets its reference, an unknown
    refund gets a row. Returns the cumulative refunded total this implies, or None when the
    event names no refund we can place (the caller relies on its cumulative figure)."""
    row = await find(session, order, seen)
    if row is not None:
        if row.status == "failed":  # failed is final: an older success event changes nothing
            return await succeeded_sum(session, order.id)
        if row.status != "succeeded":
            row.status = "succeeded"
        if seen.ref and not row.refund_ref:
            row.refund_ref = seen.ref
        await session.flush()
        return await succeeded_sum(session, order.id)
    if seen.amount is None or seen.amount <= 0 or not seen.ref:
        return None
    session.add(
        Refund(
            order_id=order.id,
            amount=seen.amount,
            currency=order.currency,
            status="succeeded",
            refund_ref=seen.ref,
            reason=PROVIDER_REASON,
            actor_id=None,
            created_at=now,
        )
    )
    await session.flush()
    return await succeeded_sum(session, order.id)


async def cover(session: AsyncSession, order: Order, now: datetime, ref: str | None) -> None:
    """After the order's ``refunded_amount`` grew: a row for any part no row accounts for
    (a refund the provider reported only as a new cumulative total). Refunds of ours still
    in flight count as accounted for: the provider's total may include them already."""
    gap = order.refunded_amount - await succeeded_sum(session, order.id, pending=True)
    if gap <= 0:
        return
    if ref:
        taken = await session.execute(select(Refund.id).where(Refund.refund_ref == ref))
        if taken.first() is not None:
            ref = None
    session.add(
        Refund(
            order_id=order.id,
            amount=gap,
            currency=order.currency,
            status="succeeded",
            refund_ref=ref,
            reason=PROVIDER_REASON,
            actor_id=None,
            created_at=now,
        )
    )
    await session.flush()
