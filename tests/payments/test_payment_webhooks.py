"""Webhooks in, on SQLite and PostgreSQL: forged, replayed (stale) and malformed webhooks
are refused; either of two secrets verifies (rotation); an event for no known order is
stored and flagged, never a 500; repeated and shuffled events end in the one right state
with the entitlement granted once, also when they arrive all at once; a refund seen before
the payment re-reads the provider. The orders here are made with a Host whose webhooks
never arrive, so the tests deliver every event themselves, in the order they choose."""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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
from lms.payments.offline_wire import sign

pytestmark = pytest.mark.postgres


def bought(node: Node, staff: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(buyer token, buyer id, course, pending order) with webhooks sent nowhere."""
    c = course(node, staff["teacher"])
    sold = product(node, staff["finance"], kind="course", name="Hooks", target_id=c["id"])
    _, buyer = node.register()
    me = ok(call(node, buyer, "GET", "/api/v1/users/me"))["id"]
    created = ok(order(node, buyer, sold["id"], headers={"Host": BLACKHOLE}))
    return buyer, me, c, created


def flagged_events(node: Node, staff: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored events finance sees flagged (the first 200)."""
    page = call(
        node,
        staff["finance"],
        "GET",
        "/api/v1/payments/events",
        params={"flagged": "true", "limit": 200},
    )
    return list(ok(page)["items"])


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
    flagged = flagged_events(pay_node, staff)
    assert body["id"] in {e["event_id"] for e in flagged}


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


def test_each_event_is_stored_with_its_order_and_what_it_did(
    pay_node: Node, staff: dict[str, Any]
) -> None:
    """The order is found inside the event's INSERT: by the id in its metadata, else by its
    checkout or payment; the row says what the event did (or the flag it raised)."""
    buyer, _, _, created = bought(pay_node, staff)
    assert pay(pay_node, created).status_code == 303
    by_ref = event("charge.succeeded", created, payment_ref="pi_stored")
    by_ref["data"]["order_id"] = "not-a-uuid"  # unusable: found by its checkout instead
    mismatch = event("checkout.completed", created, amount=created["total"] + 1)
    nobody = event("charge.succeeded", {"id": str(uuid.uuid4()), "total": 1, "currency": "EUR"})
    nobody["data"]["session_id"] = "cs_nobody_stored"
    for one in (by_ref, mismatch, nobody):
        deliver(pay_node, one, SECRETS[0])
    assert deliver(pay_node, by_ref, SECRETS[0]).json()["duplicate"] is True
    mine = ok(
        call(
            pay_node,
            staff["finance"],
            "GET",
            "/api/v1/payments/events",
            params={"order_id": created["id"], "limit": 200},
        )
    )["items"]
    stored = {e["event_id"]: e for e in mine}
    assert (stored[by_ref["id"]]["outcome"], stored[by_ref["id"]]["flag"]) == ("ignored", None)
    assert (stored[mismatch["id"]]["outcome"], stored[mismatch["id"]]["flag"]) == (
        None,
        "amount_mismatch",
    )
    assert [e["event_id"] for e in mine].count(by_ref["id"]) == 1
    order_now = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert order_now["status"] == "pending"
    flagged = flagged_events(pay_node, staff)
    ghost = next(e for e in flagged if e["event_id"] == nobody["id"])
    assert (ghost["order_id"], ghost["outcome"], ghost["flag"]) == (None, None, "unknown_order")


def test_a_burst_of_deliveries_at_once_is_handled_as_one_at_a_time(
    pay_node: Node, staff: dict[str, Any]
) -> None:
    """Deliveries in flight together, repeats racing their first copies: each answer says
    what its own event did, each repeat is stored once and answered as a duplicate, and
    every order ends fulfilled once."""
    bought_ = [bought(pay_node, staff) for _ in range(4)]
    for _, _, _, created in bought_:
        assert pay(pay_node, created).status_code == 303
    completed = [
        event("checkout.completed", created, payment_ref=f"pi_burst_{n}")
        for n, (_, _, _, created) in enumerate(bought_)
    ]
    charged = [event("charge.succeeded", created) for _, _, _, created in bought_]
    ghost = event("charge.succeeded", {"id": str(uuid.uuid4()), "total": 1, "currency": "EUR"})
    stream = [*completed, *completed, *charged, ghost]
    random.Random(7).shuffle(stream)
    with ThreadPoolExecutor(len(stream)) as pool:
        answers = list(pool.map(lambda one: deliver(pay_node, one, SECRETS[0]), stream))
    by_id: dict[str, list[dict[str, Any]]] = {}
    for one, answer in zip(stream, answers, strict=True):
        assert answer.status_code == (202 if one is ghost else 200), answer.text
        by_id.setdefault(one["id"], []).append(answer.json())
    for one in completed:
        (first,) = [a for a in by_id[one["id"]] if not a["duplicate"]]
        assert first["outcome"] == "paid"
        assert [a["duplicate"] for a in by_id[one["id"]]].count(True) == 1
    ignored = {"received": True, "duplicate": False, "outcome": "ignored", "flag": None}
    assert all(by_id[one["id"]] == [ignored] for one in charged)
    assert by_id[ghost["id"]][0]["flag"] == "unknown_order"
    for buyer, me, c, created in bought_:
        assert wait_status(pay_node, buyer, created["id"], "fulfilled")["refunded_amount"] == 0
        assert students(pay_node, staff["teacher"], c["id"]).count(me) == 1
