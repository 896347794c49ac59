"""Reconciliation's comparison, pure: our orders against the provider's payments, paired
by checkout session; every disagreement as a ``Difference`` (kinds in ``lms.payments.reconcile``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lms.payments.provider import PaymentStatus, ProviderPayment

MONEY_TAKEN = frozenset({"paid", "fulfilled", "partially_refunded", "refunded"})
THEIRS_TAKEN = frozenset(
    {PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


@dataclass(frozen=True, slots=True)
class OurOrder:
    """What the comparison needs of one of our orders."""

    order_id: uuid.UUID
    session_id: str
    payment_ref: str | None
    status: str
    total: int
    currency: str
    refunded: int
    refunds_succeeded: int = 0


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    order_id: uuid.UUID | None
    session_id: str | None
    payment_ref: str | None
    currency: str | None
    ours_amount: int | None
    theirs_amount: int | None
    ours: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)


def _ours(order: OurOrder) -> dict[str, Any]:
    return {
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
        "refunded": order.refunded,
        "payment_ref": order.payment_ref,
    }


def _theirs(payment: ProviderPayment) -> dict[str, Any]:
    return {
        "status": payment.status.value,
        "amount": payment.amount,
        "currency": payment.currency,
        "refunded": payment.refunded_amount,
        "payment_ref": payment.payment_ref,
        "order_id": payment.order_id,
    }


def _difference(
    kind: str,
    order: OurOrder,
    payment: ProviderPayment | None,
    ours_amount: int | None,
    theirs_amount: int | None,
) -> Difference:
    return Difference(
        kind=kind,
        order_id=order.order_id,
        session_id=order.session_id,
        payment_ref=order.payment_ref or (payment.payment_ref if payment else None),
        currency=order.currency,
        ours_amount=ours_amount,
        theirs_amount=theirs_amount,
        ours=_ours(order),
        theirs=_theirs(payment) if payment else {},
    )


def compare(
    ours: Iterable[OurOrder], theirs: Iterable[ProviderPayment], missing: Iterable[str] = ()
) -> list[Difference]:
    """Every disagreement between our orders and the provider's payments, paired by session.

    ``missing`` names sessions the provider said it does not know at all."""
    by_session = {payment.session_id: payment for payment in theirs}
    gone = set(missing)
    found: list[Difference] = []
    seen: set[str] = set()
    for order in ours:
        seen.add(order.session_id)
        payment = by_session.get(order.session_id)
        taken = order.status in MONEY_TAKEN

        if taken and order.refunds_succeeded != order.refunded:
            found.append(
                _difference(
                    "refund_records_mismatch",
                    order,
                    payment,
                    order.refunded,
                    order.refunds_succeeded,
                )
            )
        if payment is None:
            if taken and order.session_id in gone:
                found.append(_difference("missing_at_provider", order, payment, order.total, None))
            continue
        paid = payment.status in THEIRS_TAKEN
        if paid and not taken:
            found.append(_difference("paid_not_recorded", order, payment, None, payment.amount))
        elif taken and not paid:
            found.append(_difference("recorded_not_paid", order, payment, order.total, None))
        elif taken and paid:
            if (order.total, order.currency) != (payment.amount, payment.currency):
                found.append(
                    _difference("amount_mismatch", order, payment, order.total, payment.amount)
                )
            if order.refunded != payment.refunded_amount:
                found.append(
                    _difference(
                        "refund_mismatch", order, payment, order.refunded, payment.refunded_amount
                    )
                )
    for session_id, payment in by_session.items():
        if session_id not in seen and payment.status in THEIRS_TAKEN:
            found.append(
                Difference(
                    kind="unknown_payment",
                    order_id=None,
                    session_id=session_id,
                    payment_ref=payment.payment_ref,
                    currency=payment.currency,
                    ours_amount=None,
                    theirs_amount=payment.amount,
                    theirs=_theirs(payment),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class FailedRefund:
    """A refund the provider failed after accepting it (our ledger row)."""

    order_id: uuid.UUID
    session_id: str | None
    payment_ref: str | None
    refund_id: uuid.UUID
    refund_ref: str | None
    amount: int
    currency: str
    failure_reason: str | None


def failed_refunds(rows: Iterable[FailedRefund]) -> list[Difference]:
    """A ``refund_failed`` item per refund the provider failed in the window: both sides
    agree the money was not given back (the order was restored), but the buyer who was
    promised it is still owed an answer, so finance sees it in the run."""
    return [
        Difference(
            kind="refund_failed",
            order_id=row.order_id,
            session_id=row.session_id,
            payment_ref=row.payment_ref,
            currency=row.currency,
            ours_amount=row.amount,
            theirs_amount=None,
            ours={
                "refund_id": str(row.refund_id),
                "refund_ref": row.refund_ref,
                "failure_reason": row.failure_reason,
            },
        )
        for row in rows
    ]
