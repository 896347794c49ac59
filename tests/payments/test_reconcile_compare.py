"""The reconciliation's comparison (pure): which disagreements between our orders and the
provider's payments are reported, and which are not."""

from __future__ import annotations

import uuid

from lms.payments.provider import PaymentStatus, ProviderPayment
from lms.payments.reconcile_compare import OurOrder, compare


def ours(session: str, status: str, total: int = 5000, refunded: int = 0, **kw: object) -> OurOrder:
    fields: dict[str, object] = {
        "order_id": uuid.uuid5(uuid.NAMESPACE_URL, session),
        "session_id": session,
        "payment_ref": f"pi_{session}" if status != "pending" else None,
        "status": status,
        "total": total,
        "currency": "EUR",
        "refunded": refunded,
        "refunds_succeeded": refunded,
    }
    fields.update(kw)
    return OurOrder(**fields)  # type: ignore[arg-type]


def theirs(
    session: str,
    status: PaymentStatus,
    amount: int = 5000,
    refunded: int = 0,
    currency: str = "EUR",
) -> ProviderPayment:
    return ProviderPayment(
        session_id=session,
        payment_ref=f"pi_{session}",
        status=status,
        amount=amount,
        currency=currency,
        refunded_amount=refunded,
    )


def kinds(found: list) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    return sorted((d.kind, d.session_id) for d in found)


def test_agreeing_records_are_clean() -> None:
    assert (
        compare(
            [
                ours("a", "fulfilled"),
                ours("b", "partially_refunded", refunded=1000),
                ours("c", "refunded", refunded=5000),
                ours("d", "pending"),
                ours("e", "expired"),
                ours("f", "failed"),
            ],
            [
                theirs("a", PaymentStatus.PAID),
                theirs("b", PaymentStatus.PARTIALLY_REFUNDED, refunded=1000),
                theirs("c", PaymentStatus.REFUNDED, refunded=5000),
                theirs("d", PaymentStatus.OPEN),
                theirs("e", PaymentStatus.EXPIRED),
                theirs("f", PaymentStatus.FAILED),
                theirs("g", PaymentStatus.EXPIRED),  # an abandoned checkout we never kept
            ],
        )
        == []
    )


def test_each_kind_of_difference() -> None:
    found = compare(
        [
            ours("lost_webhook", "pending"),
            ours("never_paid", "fulfilled"),
            ours("wrong_amount", "fulfilled", total=5000),
            ours("wrong_currency", "paid"),
            ours("refund_missed", "fulfilled"),
            ours("vanished", "fulfilled"),
            ours("books", "partially_refunded", refunded=1000, refunds_succeeded=600),
            ours("unlisted_open", "pending"),
        ],
        [
            theirs("lost_webhook", PaymentStatus.PAID),
            theirs("never_paid", PaymentStatus.EXPIRED),
            theirs("wrong_amount", PaymentStatus.PAID, amount=4000),
            theirs("wrong_currency", PaymentStatus.PAID, currency="USD"),
            theirs("refund_missed", PaymentStatus.PARTIALLY_REFUNDED, refunded=2000),
            theirs("books", PaymentStatus.PARTIALLY_REFUNDED, refunded=1000),
            theirs("stranger", PaymentStatus.PAID),
        ],
        missing=["vanished"],
    )
    assert kinds(found) == [
        ("amount_mismatch", "wrong_amount"),
        ("amount_mismatch", "wrong_currency"),
        ("missing_at_provider", "vanished"),
        ("paid_not_recorded", "lost_webhook"),
        ("recorded_not_paid", "never_paid"),
        ("refund_mismatch", "refund_missed"),
        ("refund_records_mismatch", "books"),
        ("unknown_payment", "stranger"),
    ]
    by_kind = {d.kind: d for d in found}
    refund = by_kind["refund_mismatch"]
    assert (refund.ours_amount, refund.theirs_amount) == (0, 2000)
    assert refund.ours["status"] == "fulfilled" and refund.theirs["refunded"] == 2000
    stranger = by_kind["unknown_payment"]
    assert stranger.order_id is None and stranger.theirs_amount == 5000
    assert by_kind["paid_not_recorded"].payment_ref == "pi_lost_webhook"


def test_a_paid_order_the_list_did_not_bring_is_not_reported_unless_missing() -> None:
    assert compare([ours("later", "fulfilled")], []) == []
    assert kinds(compare([ours("later", "fulfilled")], [], missing=["later"])) == [
        ("missing_at_provider", "later")
    ]
