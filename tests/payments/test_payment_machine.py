"""The order state machine and pricing, as pure functions: every signal from every state,
repeats and disorder, refunds that never count twice or exceed the total, coupons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lms.payments.machine import Action, OrderState, Signal, Status, step
from lms.payments.pricing import CouponRefused, CouponTerms, check_coupon, quote

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def state(status: Status, refunded: int = 0, fulfilled: bool = False) -> OrderState:
    return OrderState(status, 1000, refunded, fulfilled)


def test_the_happy_path() -> None:
    paid = step(state(Status.PENDING), Signal.PAID)
    assert paid.status is Status.PAID and paid.actions == {Action.FULFIL}
    done = step(state(Status.PAID), Signal.FULFILLED)
    assert done.status is Status.FULFILLED and not done.actions
    part = step(state(Status.FULFILLED, fulfilled=True), Signal.REFUNDED, 300)
    assert part.status is Status.PARTIALLY_REFUNDED and part.refunded == 300 and not part.actions
    full = step(state(Status.PARTIALLY_REFUNDED, 300, True), Signal.REFUNDED, 1000)
    assert full.status is Status.REFUNDED and full.actions == {Action.REVOKE}


@pytest.mark.parametrize("status", list(Status))
def test_repeats_change_nothing(status: Status) -> None:
    for signal in Signal:
        once = step(state(status), signal, 500)
        if not once.changed or Action.REREAD in once.actions:
            continue
        twice = step(OrderState(once.status, 1000, once.refunded, False), signal, 500)
        assert not twice.changed, (status, signal)


def test_a_payment_is_never_granted_twice() -> None:
    for status in (Status.PAID, Status.FULFILLED, Status.REFUNDED, Status.PARTIALLY_REFUNDED):
        assert Action.FULFIL not in step(state(status), Signal.PAID).actions


def test_refund_before_payment_asks_the_provider() -> None:
    for status in (Status.PENDING, Status.FAILED, Status.EXPIRED):
        out = step(state(status), Signal.REFUNDED, 1000)
        assert out.actions == {Action.REREAD} and not out.changed and out.status is status


def test_refunds_are_cumulative_and_capped() -> None:
    late = step(state(Status.PARTIALLY_REFUNDED, 600, True), Signal.REFUNDED, 300)
    assert not late.changed  # an older refund event after a newer one
    capped = step(state(Status.FULFILLED, 0, True), Signal.REFUNDED, 5000)
    assert capped.refunded == 1000 and capped.status is Status.REFUNDED


def test_late_and_stale_signals() -> None:
    late = step(state(Status.EXPIRED), Signal.PAID)
    assert late.status is Status.PAID and late.actions == {Action.FULFIL, Action.LATE}
    assert not step(state(Status.FULFILLED), Signal.EXPIRED).changed
    assert not step(state(Status.PAID), Signal.FAILED).changed
    retried = step(state(Status.FAILED), Signal.PAID)
    assert retried.status is Status.PAID and Action.LATE not in retried.actions
    expired = step(state(Status.FAILED), Signal.EXPIRED)
    assert expired.status is Status.EXPIRED and expired.actions == {Action.RELEASE}
    assert not step(state(Status.REFUNDED), Signal.PAID).changed


def test_refund_of_a_paid_order_not_yet_granted() -> None:
    part = step(state(Status.PAID), Signal.REFUNDED, 100)
    assert part.status is Status.PAID and part.refunded == 100
    full = step(state(Status.PAID), Signal.REFUNDED, 1000)
    assert full.status is Status.REFUNDED and not full.actions  # nothing granted to revoke


def coupon(**kw: object) -> CouponTerms:
    fields: dict[str, object] = {
        "code": "SAVE",
        "percent_off": 25,
        "amount_off": None,
        "currency": None,
        "expires_at": None,
        "product_ids": (),
        "owner_id": None,
        "active": True,
        "max_redemptions": None,
        "redemptions": 0,
        "per_user_limit": 1,
        **kw,
    }
    return CouponTerms(**fields)  # type: ignore[arg-type]


def test_a_failed_refund_goes_back_to_before_it() -> None:
    revoked = OrderState(Status.REFUNDED, 1000, 1000, fulfilled=False, revoked=True)
    back = step(revoked, Signal.REFUND_FAILED, 0)
    assert (back.status, back.refunded, back.actions) == (Status.FULFILLED, 0, {Action.RESTORE})
    # Only the second of two refunds failed: partly refunded again, the grant restored.
    back = step(revoked, Signal.REFUND_FAILED, 300)
    assert (back.status, back.refunded, back.actions) == (
        Status.PARTIALLY_REFUNDED,
        300,
        {Action.RESTORE},
    )
    part = step(state(Status.PARTIALLY_REFUNDED, 300, True), Signal.REFUND_FAILED, 0)
    assert (part.status, part.refunded, part.actions) == (Status.FULFILLED, 0, frozenset())
    # Refunded before it was ever granted (an automatic refund): paid again, nothing to restore.
    never = step(state(Status.REFUNDED, 1000), Signal.REFUND_FAILED, 0)
    assert (never.status, never.actions) == (Status.PAID, frozenset())
    early = step(state(Status.PAID, 300), Signal.REFUND_FAILED, 0)
    assert (early.status, early.refunded) == (Status.PAID, 0)


def test_a_failed_refund_never_raises_the_total_nor_touches_open_orders() -> None:
    assert not step(state(Status.PARTIALLY_REFUNDED, 300, True), Signal.REFUND_FAILED, 300).changed
    assert not step(state(Status.PARTIALLY_REFUNDED, 300, True), Signal.REFUND_FAILED, 900).changed
    for status in (Status.PENDING, Status.FAILED, Status.EXPIRED):
        assert not step(state(status), Signal.REFUND_FAILED, 0).changed


def test_quotes() -> None:
    assert quote(1999, "EUR", None).total == 1999
    assert quote(1999, "EUR", coupon()).discount == 500  # 499.75 rounds half up
    assert quote(1999, "EUR", coupon(percent_off=100)).total == 0
    assert quote(500, "EUR", coupon(percent_off=None, amount_off=800, currency="EUR")).total == 0
    with pytest.raises(CouponRefused):
        quote(500, "USD", coupon(percent_off=None, amount_off=100, currency="EUR"))


@pytest.mark.parametrize(
    ("terms", "used", "reason"),
    [
        ({"active": False}, 0, "inactive"),
        ({"expires_at": NOW - timedelta(seconds=1)}, 0, "expired"),
        ({"owner_id": uuid.uuid4()}, 0, "not_yours"),
        ({"product_ids": (str(uuid.uuid4()),)}, 0, "not_applicable"),
        ({"max_redemptions": 3, "redemptions": 3}, 0, "used_up"),
        ({}, 1, "per_user_limit"),
    ],
)
def test_coupon_abuse(terms: dict[str, object], used: int, reason: str) -> None:
    with pytest.raises(CouponRefused) as refused:
        check_coupon(
            coupon(**terms),
            product_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            used_by_user=used,
            now=NOW,
        )
    assert refused.value.extra["reason"] == reason


def test_plan_periods_renew_and_lapse() -> None:
    from lms.payments.fulfilment import is_active, period_end
    from persistence.models import Entitlement

    start = datetime(2030, 1, 31, tzinfo=UTC)
    assert period_end(start, "month") == datetime(2030, 2, 28, tzinfo=UTC)
    assert period_end(start, "year") == datetime(2031, 1, 31, tzinfo=UTC)
    assert period_end(start, None) is None
    plan = Entitlement(
        kind="plan", features=["hd"], period_start=start, period_end=period_end(start, "month")
    )
    assert is_active(plan, start) and is_active(plan, start + timedelta(days=27))
    assert not is_active(plan, datetime(2030, 2, 28, tzinfo=UTC))  # lapsed: the row stays
    assert not is_active(plan, start - timedelta(seconds=1))  # a renewal not begun yet
    plan.revoked_at = start
    assert not is_active(plan, start + timedelta(days=1))
    seat = Entitlement(kind="workshop", features=[], period_start=start, period_end=None)
    assert is_active(seat, start + timedelta(days=3650))
