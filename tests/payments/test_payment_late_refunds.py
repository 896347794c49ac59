"""Late payments, lapsed holds and refunds made at the provider, on SQLite and PostgreSQL with
the offline provider: a seat paid after its hold lapsed with no seat left is refunded in full
automatically (ledger row, audit, refund receipt e-mail, inbox notification); with a seat
still free it takes it; a lapsed hold closes the provider's checkout so nobody can pay it,
and a payment that got in first still counts; a refund made at the provider (not through
our API) gets one ledger row however many events name it, moves the order and revokes the
entitlement on a full refund, also when it is seen before the payment."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from kits.nodes import Node, node_sessions
from kits.paykit import (
    BLACKHOLE,
    SECRETS,
    call,
    course,
    deliver,
    event,
    ok,
    order,
    pay,
    product,
    wait_status,
    workshop,
)
from kits.smtp import SmtpServer
from lms.payments import orders
from lms.payments.autorefund import REASON
from lms.payments.ledger import PROVIDER_REASON
from lms.payments.offline import OfflineProvider
from lms.payments.receipts import NO_SEAT_NOTE
from persistence.models import OfflineSession, Order
from persistence.models.base import utcnow

pytestmark = pytest.mark.postgres


def offline_row(node: Node, order_id: str) -> OfflineSession:
    async def read() -> OfflineSession:
        async with node_sessions(node) as sessions, sessions() as session:
            row = (
                await session.execute(
                    select(OfflineSession).where(OfflineSession.order_id == order_id)
                )
            ).scalar_one()
            return row

    return asyncio.run(read())


def lapse(node: Node, order_id: str) -> None:
    """The order's seat hold lapses now (its provider checkout is left open, as Stripe's
    30-minute minimum would leave it) and the expiry job's function runs as the node's
    worker would run it."""

    async def run() -> None:
        async with node_sessions(node) as sessions:
            async with sessions() as session:
                await session.execute(
                    update(Order)
                    .where(Order.id == uuid.UUID(order_id))
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )
                await session.commit()
            provider = OfflineProvider(sessions, list(SECRETS))
            async with sessions() as session:
                await orders.expire(session, uuid.UUID(order_id), provider)

    asyncio.run(run())


def refund_at_provider(node: Node, payment_ref: str, amount: int, key: str) -> str:
    """A refund made at the offline provider itself (its dashboard, as it were)."""

    async def run() -> str:
        async with node_sessions(node) as sessions:
            provider = OfflineProvider(sessions, list(SECRETS))
            made = await provider.refund(payment_ref, amount, "EUR", key)
            return made.refund_ref

    return asyncio.run(run())


def seat_product(node: Node, staff: dict[str, str], capacity: int) -> tuple[str, str]:
    w = workshop(node, staff["teacher"], capacity)
    sold = product(node, staff["finance"], kind="workshop", name="Late seat", target_id=w["id"])
    return w["id"], sold["id"]


def seats_left(node: Node, staff: dict[str, str], workshop_id: str) -> int:
    got = ok(call(node, staff["teacher"], "GET", f"/api/v1/workshops/{workshop_id}"))
    return int(got["seats_left"])


def registered(node: Node, staff: dict[str, str], workshop_id: str) -> set[str]:
    got = ok(call(node, staff["teacher"], "GET", f"/api/v1/workshops/{workshop_id}/registrations"))
    items = got["items"] if isinstance(got, dict) else got
    return {r["user_id"] for r in items if r.get("status") in ("registered", "confirmed")}


def paid_then_expired(node: Node, token: str, product_id: str) -> tuple[dict[str, Any], str]:
    """An order paid at the provider whose payment webhook has not come, then expired here
    (the provider's expiry event): (the order, the provider's payment reference)."""
    created = ok(order(node, token, product_id, headers={"Host": BLACKHOLE}))
    assert pay(node, created).status_code == 303
    expired = deliver(node, event("checkout.expired", created), SECRETS[0])
    assert expired.json()["outcome"] == "expired"
    ref = offline_row(node, created["id"]).payment_ref
    assert ref
    return created, ref


def test_a_late_payment_with_no_seat_left_is_refunded_in_full(
    pay_node: Node, staff: dict[str, str], smtp: SmtpServer
) -> None:
    w, sold = seat_product(pay_node, staff, 1)
    email, late = pay_node.register()
    created, ref = paid_then_expired(pay_node, late, sold)
    assert seats_left(pay_node, staff, w) == 1
    _, other = pay_node.register()
    theirs = ok(order(pay_node, other, sold))
    assert pay(pay_node, theirs).status_code == 303
    wait_status(pay_node, other, theirs["id"], "fulfilled")
    assert seats_left(pay_node, staff, w) == 0
    # The late payment's webhook finally comes: no seat is left, the money goes back.
    got = deliver(pay_node, event("checkout.completed", created, payment_ref=ref), SECRETS[0])
    assert got.json()["outcome"] == "paid"
    done = wait_status(pay_node, late, created["id"], "refunded")
    assert done["refunded_amount"] == 1999 and done["flag"] == "paid_without_seat"
    assert not done["fulfilled_at"]
    assert offline_row(pay_node, created["id"]).refunded_amount == 1999  # at the provider
    rows = ok(
        call(pay_node, staff["finance"], "GET", f"/api/v1/payments/orders/{created['id']}/refunds")
    )
    assert [(r["amount"], r["status"], r["reason"]) for r in rows] == [(1999, "succeeded", REASON)]
    assert rows[0]["refund_ref"]
    assert seats_left(pay_node, staff, w) == 0  # the buyer who has the seat keeps it
    mail = smtp.wait_for(email, where=lambda m: m.subject.startswith("Refund receipt"))[0]
    assert NO_SEAT_NOTE in " ".join(mail.text.split())
    inbox = ok(call(pay_node, late, "GET", "/api/v1/notifications"))
    assert any(n["link"] == f"/purchases/{created['id']}" for n in inbox["items"])
    audit = ok(
        call(
            pay_node,
            pay_node.admin_token(),
            "GET",
            "/api/v1/audit-events",
            params={"action_prefix": "payments.refund", "limit": 500},
        )
    )
    mine = [e for e in audit["items"] if e["target_id"] == created["id"]]
    assert {e["action"] for e in mine} == {"payments.refund.request", "payments.refund"}
    assert all(e["actor_kind"] == "system" for e in mine)
    # A repeat of the late payment's event refunds nothing more.
    again = deliver(pay_node, event("checkout.completed", created, payment_ref=ref), SECRETS[0])
    assert again.json()["outcome"] == "no_change"
    assert offline_row(pay_node, created["id"]).refunded_amount == 1999


def test_a_late_payment_takes_a_seat_still_free(pay_node: Node, staff: dict[str, str]) -> None:
    w, sold = seat_product(pay_node, staff, 2)
    _, late = pay_node.register()
    me = ok(call(pay_node, late, "GET", "/api/v1/users/me"))["id"]
    created, ref = paid_then_expired(pay_node, late, sold)
    deliver(pay_node, event("checkout.completed", created, payment_ref=ref), SECRETS[0])
    done = wait_status(pay_node, late, created["id"], "fulfilled")
    assert done["refunded_amount"] == 0 and done["flag"] == "paid_after_expiry"
    assert me in registered(pay_node, staff, w) and seats_left(pay_node, staff, w) == 1
    assert (
        ok(
            call(
                pay_node,
                staff["finance"],
                "GET",
                f"/api/v1/payments/orders/{created['id']}/refunds",
            )
        )
        == []
    )


def test_a_lapsed_hold_closes_the_checkout(pay_node: Node, staff: dict[str, str]) -> None:
    w, sold = seat_product(pay_node, staff, 2)
    _, buyer = pay_node.register()
    created = ok(order(pay_node, buyer, sold, headers={"Host": BLACKHOLE}))
    assert seats_left(pay_node, staff, w) == 1
    lapse(pay_node, created["id"])
    assert (
        ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))["status"]
        == "expired"
    )
    assert seats_left(pay_node, staff, w) == 2
    # The checkout's own time is not up, but it refuses payment: nothing is charged.
    assert offline_row(pay_node, created["id"]).status == "expired"
    refused = pay(pay_node, created)
    assert refused.status_code == 303 and refused.headers["location"].endswith("?cancelled=1")
    row = offline_row(pay_node, created["id"])
    assert (row.status, row.payment_ref) == ("expired", None)
    page = call(pay_node, None, "GET", f"/pay/offline/{row.id}")
    assert "expired" in page.text and "Pay</button>" not in page.text
    # A payment that got in before the hold lapsed counts (its webhook never came).
    _, racer = pay_node.register()
    raced = ok(order(pay_node, racer, sold, headers={"Host": BLACKHOLE}))
    assert pay(pay_node, raced).status_code == 303
    lapse(pay_node, raced["id"])
    wait_status(pay_node, racer, raced["id"], "fulfilled")
    assert seats_left(pay_node, staff, w) == 1


def test_refunds_made_at_the_provider_count_once(pay_node: Node, staff: dict[str, str]) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="Dash", target_id=c["id"])
    _, buyer = pay_node.register()
    me = ok(call(pay_node, buyer, "GET", "/api/v1/users/me"))["id"]
    created = ok(order(pay_node, buyer, sold["id"]))
    assert pay(pay_node, created).status_code == 303
    wait_status(pay_node, buyer, created["id"], "fulfilled")
    ref = offline_row(pay_node, created["id"]).payment_ref
    assert ref
    refunds = f"/api/v1/payments/orders/{created['id']}/refunds"
    # A partial refund at the provider: its own signed webhook reaches the node.
    first = refund_at_provider(pay_node, ref, 500, "dashboard-1")
    part = wait_status(pay_node, buyer, created["id"], "partially_refunded")
    assert part["refunded_amount"] == 500 and not part["revoked_at"]
    # The same refund announced again under another event id: still one row.
    echo = event("refund.succeeded", created, refund_ref=first, refund=500, refunded_amount=500)
    assert deliver(pay_node, echo, SECRETS[0]).json()["outcome"] == "no_change"
    assert deliver(pay_node, echo, SECRETS[1]).json()["duplicate"] is True
    rows = ok(call(pay_node, staff["finance"], "GET", refunds))
    assert [(r["amount"], r["refund_ref"], r["reason"]) for r in rows] == [
        (500, first, PROVIDER_REASON)
    ]
    enrolled = ok(call(pay_node, staff["teacher"], "GET", f"/api/v1/courses/{c['id']}/enrollments"))
    assert me in [e["user_id"] for e in enrolled if e["role"] == "student"]
    # The rest refunded at the provider: refunded, the enrolment revoked (the policy).
    refund_at_provider(pay_node, ref, 1499, "dashboard-2")
    gone = wait_status(pay_node, buyer, created["id"], "refunded")
    assert gone["refunded_amount"] == 1999 and gone["revoked_at"]
    rows = ok(call(pay_node, staff["finance"], "GET", refunds))
    assert sorted(r["amount"] for r in rows) == [500, 1499]
    enrolled = ok(call(pay_node, staff["teacher"], "GET", f"/api/v1/courses/{c['id']}/enrollments"))
    assert me not in [e["user_id"] for e in enrolled if e["role"] == "student"]


def test_a_provider_refund_seen_before_the_payment(pay_node: Node, staff: dict[str, str]) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="Early", target_id=c["id"])
    _, buyer = pay_node.register()
    created = ok(order(pay_node, buyer, sold["id"], headers={"Host": BLACKHOLE}))
    assert pay(pay_node, created).status_code == 303
    ref = offline_row(pay_node, created["id"]).payment_ref
    assert ref
    made = refund_at_provider(pay_node, ref, 700, "dashboard-early")
    told = event("refund.succeeded", created, refund_ref=made, refund=700, refunded_amount=700)
    # Not paid here yet: we read the provider, which says paid and 700 refunded.
    assert deliver(pay_node, told, SECRETS[0]).json()["outcome"] in ("paid", "fulfilled")
    done = wait_status(pay_node, buyer, created["id"], "partially_refunded")
    assert done["refunded_amount"] == 700 and done["fulfilled_at"]
    again = event("refund.succeeded", created, refund_ref=made, refund=700, refunded_amount=700)
    assert deliver(pay_node, again, SECRETS[0]).json()["outcome"] == "no_change"
    late = deliver(pay_node, event("checkout.completed", created, payment_ref=ref), SECRETS[0])
    assert late.json()["outcome"] == "no_change"
    rows = ok(
        call(pay_node, staff["finance"], "GET", f"/api/v1/payments/orders/{created['id']}/refunds")
    )
    assert [(r["amount"], r["refund_ref"]) for r in rows] == [(700, made)]
