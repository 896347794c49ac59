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
from typing import Any, cast

from sqlalchemy import BindParameter, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from lms.courses.events import CourseEvents
from lms.payments import ledger, refund_failures
from lms.payments.ledger import ProviderRefundSeen
from lms.payments.machine import MONEY_TAKEN, Action, Signal, Status
from lms.payments.orders import apply_snapshot
from lms.payments.provider import EventType, PaymentProvider, ProviderError, ProviderEvent
from lms.payments.transitions import apply, lock_order
from persistence.models import Order, PaymentEvent

UNKNOWN_ORDER, AMOUNT_MISMATCH, IGNORED = "unknown_order", "amount_mismatch", "ignored"
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


def _insert(dialect: str) -> ReturningInsert[tuple[int, uuid.UUID | None]]:
    """The event's INSERT, built once (per dialect) with bound parameters: its order id is
    looked up inside it, the order the metadata names (``named``) if it exists, else one of
    the provider's with the event's checkout or payment (a NULL parameter matches nothing);
    a repeat of a stored provider event id inserts nothing."""

    def bound(name: str, column: str) -> BindParameter[Any]:
        return bindparam(name, type_=EVENTS.c[column].type)

    named = select(ORDERS.c.id).where(ORDERS.c.id == bindparam("named")).scalar_subquery()
    by_ref = (
        select(ORDERS.c.id)
        .where(
            ORDERS.c.provider == bindparam("provider_"),
            or_(
                ORDERS.c.session_id == bindparam("session_ref"),
                ORDERS.c.payment_ref == bindparam("payment_ref_"),
            ),
        )
        .limit(1)
        .scalar_subquery()
    )
    insert = postgresql.insert(EVENTS) if dialect == "postgresql" else sqlite.insert(EVENTS)
    return (
        insert.values(
            provider=bound("provider_", "provider"),
            event_id=bound("event_id_", "event_id"),
            type=bound("type_", "type"),
            raw_type=bound("raw_type_", "raw_type"),
            order_id=func.coalesce(named, by_ref),
            body=bound("body_", "body"),
            outcome=bound("outcome_", "outcome"),
            received_at=bound("received_at_", "received_at"),
        )
        .on_conflict_do_nothing()
        .returning(EVENTS.c.id, EVENTS.c.order_id)
    )


EVENTS, ORDERS = cast(Table, PaymentEvent.__table__), cast(Table, Order.__table__)
INSERTS = {dialect: _insert(dialect) for dialect in ("postgresql", "sqlite")}


async def _store(
    session: AsyncSession,
    provider: str,
    event: ProviderEvent,
    raw_body: bytes,
    now: datetime,
    outcome: str | None,
) -> tuple[int, uuid.UUID | None] | None:
    """Store the event raw with its order, once per provider event id, in one statement
    (``_insert``; a copy delivered at the same time waits for the first one's
    transaction). The stored row's id and its order's, or None for a repeat; an event for
    no order we know is flagged ``unknown_order``."""
    try:
        named = uuid.UUID(event.order_id) if event.order_id else None
    except ValueError:
        named = None
    stored = (
        await session.execute(
            INSERTS[session.get_bind().dialect.name],
            {
                "named": named,
                "provider_": provider,
                "session_ref": event.session_id or None,
                "payment_ref_": event.payment_ref or None,
                "event_id_": event.event_id,
                "type_": event.type.value,
                "raw_type_": event.raw_type[:100],
                "body_": raw_body.decode("utf-8", "replace"),
                "outcome_": outcome,
                "received_at_": now,
            },
        )
    ).one_or_none()
    if stored is None:
        return None
    if stored.order_id is None:
        await _settle(session, stored.id, None, UNKNOWN_ORDER)
    return stored.id, stored.order_id


async def _settle(
    session: AsyncSession, stored: int, outcome: str | None, flag: str | None = None
) -> None:
    """Record what a stored event did (its outcome, and a flag if it raised one)."""
    await session.execute(
        update(PaymentEvent).where(PaymentEvent.id == stored).values(outcome=outcome, flag=flag)
    )


async def receive(
    session: AsyncSession,
    provider: str,
    event: ProviderEvent,
    raw_body: bytes,
    now: datetime,
    course_events: CourseEvents | None,
) -> Received:
    """Store and act on one verified event, in ``session``'s transaction. An event that
    moves no order (most of a checkout's) or repeats a stored one is one INSERT: nothing
    is read or locked."""
    signal = SIGNALS.get(event.type)
    acts = signal is not None or event.type is EventType.REFUND_FAILED
    stored = await _store(session, provider, event, raw_body, now, None if acts else IGNORED)
    if stored is None:
        return Received(duplicate=True)
    stored_id, order_id = stored
    if order_id is None:
        return Received(flag=UNKNOWN_ORDER)
    if not acts:
        return Received(outcome=IGNORED)
    order = await lock_order(session, order_id)
    got = await _act(session, order, event, signal, now, course_events)
    await _settle(session, stored_id, got.outcome, got.flag)
    return got


async def _act(
    session: AsyncSession,
    order: Order,
    event: ProviderEvent,
    signal: Signal | None,
    now: datetime,
    course_events: CourseEvents | None,
) -> Received:
    """What an event that acts does to its (locked) order."""
    if event.type is EventType.REFUND_FAILED:
        undone = await refund_failures.fail(
            session,
            order,
            _seen(event),
            _text(event.data.get("failure_reason")),
            now,
            course_events,
        )
        return Received(outcome=undone)
    if signal is None:  # not reached: only a refund failure acts without a signal
        return Received()
    if signal is Signal.PAID:
        amount, currency = _int(event.data.get("amount")), event.data.get("currency")
        if (amount is not None and amount != order.total) or (
            isinstance(currency, str) and currency.upper() != order.currency
        ):
            order.flag = AMOUNT_MISMATCH
            return Received(flag=AMOUNT_MISMATCH)
    refunded = _int(event.data.get("refunded_amount")) or 0
    refund_ref = _text(event.data.get("refund_ref"))
    if signal is Signal.REFUNDED and Status(order.status) in MONEY_TAKEN:
        told = _seen(event)
        verdict = await refund_failures.screen(session, order, told)
        if verdict in ("stale", "reread"):  # it may count a refund that failed since
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
        return Received(outcome="reread", reread=order.id)
    return Received(outcome=outcome.status.value if outcome.changed else "no_change")


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
