"""Webhooks in: every verified event is stored raw with the provider's event id (a repeat
of a stored id is acknowledged and ignored), matched to its order and fed to the state
machine. An event for no order we know is stored, flagged ``unknown_order`` and
acknowledged (202): never a 500, never a retry storm. An event whose place in the order's
history cannot be known (a refund of an order not yet paid here) makes us re-read the
provider's state of the checkout and apply that instead.

A refund event (ours coming back, or one made in the provider's dashboard) is written to
the refund ledger (ledger.py: one row per provider refund however many events name it) and
moves the order to ``partially_refunded`` or ``refunded``; a full refund revokes the
entitlement (the policy in refunds.py). A refund that failed at the provider undoes its
part (refund_failures.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from lms.courses.events import CourseEvents
from lms.payments import ledger, refund_failures
from lms.payments.ledger import ProviderRefundSeen
from lms.payments.machine import MONEY_TAKEN, Action, Signal, Status
from lms.payments.orders import apply_snapshot
from lms.payments.provider import EventType, PaymentProvider, ProviderError, ProviderEvent
from lms.payments.transitions import apply, lock_order
from persistence.models import Order, PaymentEvent

SIGNALS = {
    EventType.CHECKOUT_COMPLETED: Signal.PAID,
    EventType.CHECKOUT_EXPIRED: Signal.EXPIRED,
    EventType.PAYMENT_FAILED: Signal.FAILED,
    EventType.REFUND_SUCCEEDED: Signal.REFUNDED,
}


@dataclass
class Received:
    duplicate: bool = False
    outcome: str | None = None
    flag: str | None = None
    reread: uuid.UUID | None = None  # the order whose provider state must be read again


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and 0 <= value < 2**62 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _seen(event: ProviderEvent) -> ProviderRefundSeen:
    return ProviderRefundSeen(
        ref=_text(event.data.get("refund_ref")),
        amount=_int(event.data.get("amount")),
        key=_text(event.data.get("refund_key")),
    )


async def _find(session: AsyncSession, provider: str, event: ProviderEvent) -> Order | None:
    if event.order_id:
        try:
            found = await session.get(Order, uuid.UUID(event.order_id))
        except ValueError:
            found = None
        if found is not None:
            return found
    refs = [
        c
        for c in (
            Order.session_id == event.session_id if event.session_id else None,
            Order.payment_ref == event.payment_ref if event.payment_ref else None,
        )
        if c is not None
    ]
    if not refs:
        return None
    rows = await session.execute(select(Order).where(Order.provider == provider, or_(*refs)))
    return rows.scalars().first()


async def _store(
    session: AsyncSession,
    provider: str,
    event: ProviderEvent,
    raw_body: bytes,
    now: datetime,
    order_id: uuid.UUID | None,
    outcome: str | None,
) -> PaymentEvent | None:
    """Store the event raw, once per provider event id: one INSERT that the unique key turns
    into nothing for a repeat (None; a copy delivered at the same time waits for the first
    one's transaction). The stored row is attached to ``session``: what is set on it later
    is saved with the transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "provider": provider,
        "event_id": event.event_id,
        "type": event.type.value,
        "raw_type": event.raw_type[:100],
        "order_id": order_id,
        "body": raw_body.decode("utf-8", "replace"),
        "flag": None if order_id is not None else "unknown_order",
        "outcome": outcome,
        "received_at": now,
    }
    stored = await session.scalar(
        insert(PaymentEvent).values(values).on_conflict_do_nothing().returning(PaymentEvent.id)
    )
    if stored is None:
        return None
    record = PaymentEvent(id=stored, **values)
    make_transient_to_detached(record)
    session.add(record)
    return record


async def receive(
    session: AsyncSession,
    provider: str,
    event: ProviderEvent,
    raw_body: bytes,
    now: datetime,
    course_events: CourseEvents | None,
) -> Received:
    """Store and act on one verified event, in ``session``'s transaction. An event that
    moves no order (most of a checkout's) is stored with its order and nothing is locked."""
    found = await _find(session, provider, event)
    signal = SIGNALS.get(event.type)
    acts = signal is not None or event.type is EventType.REFUND_FAILED
    ignored = found is not None and not acts
    record = await _store(
        session,
        provider,
        event,
        raw_body,
        now,
        found.id if found is not None else None,
        "ignored" if ignored else None,
    )
    if record is None:
        return Received(duplicate=True)
    if found is None:
        return Received(flag=record.flag)
    if ignored:
        return Received(outcome=record.outcome)
    order = await lock_order(session, found.id)
    if event.type is EventType.REFUND_FAILED:
        record.outcome = await refund_failures.fail(
            session,
            order,
            _seen(event),
            _text(event.data.get("failure_reason")),
            now,
            course_events,
        )
        return Received(outcome=record.outcome)
    if signal is None:  # not reached: only a refund failure acts without a signal
        return Received(outcome=record.outcome)
    if signal is Signal.PAID:
        amount, currency = _int(event.data.get("amount")), event.data.get("currency")
        if (amount is not None and amount != order.total) or (
            isinstance(currency, str) and currency.upper() != order.currency
        ):
            record.flag = order.flag = "amount_mismatch"
            return Received(flag=record.flag)
    refunded = _int(event.data.get("refunded_amount")) or 0
    refund_ref = _text(event.data.get("refund_ref"))
    if signal is Signal.REFUNDED and Status(order.status) in MONEY_TAKEN:
        told = _seen(event)
        verdict = await refund_failures.screen(session, order, told)
        if verdict in ("stale", "reread"):  # it may count a refund that failed since
            record.outcome = verdict
            return Received(outcome=verdict, reread=order.id if verdict == "reread" else None)
        noted = await ledger.note(session, order, told, now)
        refunded = (noted or 0) if verdict == "ledger" else max(refunded, noted or 0)
    outcome = await apply(
        session,
        order,
        signal,
        now,
        refunded_total=refunded,
        payment_ref=event.payment_ref,
        course_events=course_events,
        refund_ref=refund_ref,
    )
    if Action.REREAD in outcome.actions:
        record.outcome = "reread"
        return Received(outcome="reread", reread=order.id)
    record.outcome = outcome.status.value if outcome.changed else "no_change"
    return Received(outcome=record.outcome)


async def reread(
    session: AsyncSession,
    provider: PaymentProvider,
    order_id: uuid.UUID,
    now: datetime,
    course_events: CourseEvents | None,
) -> str:
    """Ask the provider for the order's checkout and apply what it says (its own
    transaction: the provider is not called while we hold locks)."""
    order = await session.get(Order, order_id)
    if order is None or not order.session_id:
        return "unknown"
    session_id = order.session_id
    await session.commit()
    try:
        payment = await provider.retrieve(session_id)
    except ProviderError:
        return "provider_error"
    order = await lock_order(session, order_id)
    await apply_snapshot(session, order, payment, now, course_events)
    await session.commit()
    return order.status
