"""Webhooks in, on SQLite and PostgreSQL: forged, replayed (stale) and malformed webhooks
are refused; either of two secrets verifies (rotation); an event for no known order is
stored and flagged, never a 500; repeated and shuffled events end in the one right state
with the entitlement granted once; a refund seen before the payment re-reads the
provider. The orders here are made with a Host whose webhooks never arrive, so the tests
deliver every event themselves, in the order they choose."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest

from kits.nodes import Node
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
    problem,
    product,
    wait_status,
)
from lms.payments.offline import sign

pytestmark = pytest.mark.postgres


def bought(node: Node, staff: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(buyer token, buyer id, course, pending order) with webhooks sent nowhere."""
    c = course(node, staff["teacher"])
    sold = product(node, staff["finance"], kind="course", name="Hooks", target_id=c["id"])
    _, buyer = node.register()
    me = ok(call(node, buyer, "GET", "/api/v1/users/me"))["id"]
    created = ok(order(node, buyer, sold["id"], headers={"Host": BLACKHOLE}))
    return buyer, me, c, created


def students(node: Node, teacher: str, course_id: str) -> list[str]:
    got = ok(call(node, teacher, "GET", f"/api/v1/courses/{course_id}/enrollments"))
    return [e["user_id"] for e in got if e["role"] == "student"]


def test_forged_stale_and_malformed_webhooks_are_refused(
    pay_node: Node, staff: dict[str, Any]
) -> None:
    _, _, _, created = bought(pay_node, staff)
    body = event("checkout.completed", created, payment_ref="pi_forged")
    assert problem(deliver(pay_node, body, "whsec_wrong"), 400)["reason"] == "InvalidSignature"
    stale = deliver(pay_node, body, SECRETS[0], at=int(time.time()) - 3600)
    assert problem(stale, 400)["reason"] == "StaleTimestamp"
    future = deliver(pay_node, body, SECRETS[0], at=int(time.time()) + 3600)
    assert problem(future, 400)["reason"] == "StaleTimestamp"
    unsigned = call(pay_node, None, "POST", "/api/v1/payments/webhooks/offline", json=body)
    assert problem(unsigned, 400)["reason"] == "InvalidSignature"
    garbage = deliver(pay_node, {}, SECRETS[0], raw=b"not json")
    assert problem(garbage, 400)["reason"] == "MalformedEvent"
    other = call(pay_node, None, "POST", "/api/v1/payments/webhooks/stripe", json=body)
    problem(other, 404)
    # The body signed is the body checked: a changed byte breaks the signature.
    raw = b'{"id": "evt_x", "type": "checkout.completed", "created": 1, "data": {}}'
    header = sign(raw, SECRETS[0], int(time.time()))
    tampered = raw.replace(b"evt_x", b"evt_y")
    with pay_node.client() as client:
        answer = client.post(
            "/api/v1/payments/webhooks/offline",
            content=tampered,
            headers={"Liveclass-Signature": header, "content-type": "application/json"},
        )
    assert answer.status_code == 400
    still = ok(call(pay_node, staff["finance"], "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert still["status"] == "pending"


def test_unknown_orders_are_stored_and_flagged(pay_node: Node, staff: dict[str, Any]) -> None:
    ghost = {"id": str(uuid.uuid4()), "total": 100, "currency": "EUR"}
    body = event("checkout.completed", ghost, session_id="cs_nobody", payment_ref="pi_nobody")
    answer = deliver(pay_node, body, SECRETS[1])  # the previous secret still verifies
    assert answer.status_code == 202 and answer.json()["flag"] == "unknown_order"
    again = deliver(pay_node, body, SECRETS[0])
    assert again.status_code == 200 and again.json()["duplicate"] is True
    flagged = ok(
        call(
            pay_node,
            staff["finance"],
            "GET",
            "/api/v1/payments/events",
            params={"flagged": "true", "limit": 200},
        )
    )
    assert body["id"] in {e["event_id"] for e in flagged["items"]}


def test_duplicated_and_shuffled_events_grant_once(pay_node: Node, staff: dict[str, Any]) -> None:
    buyer, me, c, created = bought(pay_node, staff)
    assert pay(pay_node, created).status_code == 303  # the provider took the money
    completed = event("checkout.completed", created, payment_ref="pi_shuffled")
    failed = event("payment.failed", created)
    expired = event("checkout.expired", created)
    stream = [completed, completed, failed, expired, completed, failed]
    random.Random(21).shuffle(stream)
    for one in stream:
        answer = deliver(pay_node, one, random.choice(SECRETS))
        assert answer.status_code == 200, answer.text
    done = wait_status(pay_node, buyer, created["id"], "fulfilled")
    assert done["refunded_amount"] == 0
    assert students(pay_node, staff["teacher"], c["id"]).count(me) == 1
    # A stale failure or expiry after the payment changes nothing.
    assert (
        deliver(pay_node, event("checkout.expired", created), SECRETS[0]).json()["outcome"]
        == "no_change"
    )
    assert (
        ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))["status"]
        == "fulfilled"
    )


def test_a_refund_before_the_payment_rereads_the_provider(
    pay_node: Node, staff: dict[str, Any]
) -> None:
    buyer, me, c, created = bought(pay_node, staff)
    # Not paid at the provider yet: the early refund event leaves the order pending.
    early = deliver(pay_node, event("refund.succeeded", created, refunded_amount=1999), SECRETS[0])
    assert early.status_code == 200 and early.json()["outcome"] == "pending"
    assert pay(pay_node, created).status_code == 303
    # Paid at the provider, but our checkout.completed is late: the refund event that
    # arrives first makes us read the provider's state, which says paid.
    refund_first = event("refund.succeeded", created, refunded_amount=500)
    assert deliver(pay_node, refund_first, SECRETS[0]).json()["outcome"] in ("paid", "fulfilled")
    done = wait_status(pay_node, buyer, created["id"], "fulfilled")
    assert me in students(pay_node, staff["teacher"], c["id"])
    late = deliver(
        pay_node,
        event("checkout.completed", created, payment_ref=done.get("payment_ref")),
        SECRETS[0],
    )
    assert late.json()["outcome"] == "no_change"
    # The finance refund and the provider's own refund event (a repeat) count once.
    refunds = f"/api/v1/payments/orders/{created['id']}/refunds"
    full = call(pay_node, staff["finance"], "POST", refunds, json={})
    assert full.status_code == 201 and full.json()["amount"] == 1999
    echo = deliver(pay_node, event("refund.succeeded", created, refunded_amount=1999), SECRETS[0])
    assert echo.json()["outcome"] == "no_change"
    final = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert final["status"] == "refunded" and final["refunded_amount"] == 1999
    assert me not in students(pay_node, staff["teacher"], c["id"])
