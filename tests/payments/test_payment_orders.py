"""Payments on a real node with the offline provider, on SQLite and PostgreSQL: a course
bought through the hosted checkout page and its signed webhook, enrolment exactly once, a
receipt e-mail through a real SMTP server, Idempotency-Key replays, tampered bodies,
coupon abuse, one open order per buyer and thing (also when two are sent at once), partial
and full refunds (the entitlement revoked), the audit trail, and a seat race of 200 buyers
for 50 workshop seats."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from kits.nodes import PASSWORD, Node
from kits.paykit import (
    call,
    course,
    many_buyers,
    ok,
    order,
    pay,
    problem,
    product,
    wait_status,
    workshop,
)
from kits.smtp import SmtpServer

pytestmark = pytest.mark.postgres


def roster(node: Node, teacher: str, course_id: str) -> list[str]:
    got = ok(call(node, teacher, "GET", f"/api/v1/courses/{course_id}/enrollments"))
    return [e["user_id"] for e in got if e["role"] == "student"]


def test_buy_a_course_pay_get_enrolled_receipt_refund(
    pay_node: Node, staff: dict[str, str], smtp: SmtpServer
) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="Pandas", target_id=c["id"])
    email, buyer = pay_node.register()
    me = ok(call(pay_node, buyer, "GET", "/api/v1/users/me"))["id"]
    key = {"Idempotency-Key": "buy-course-1"}
    first = order(pay_node, buyer, sold["id"], headers=key)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["total"] == 1999 and created["status"] == "pending"
    again = order(pay_node, buyer, sold["id"], headers=key)
    assert again.status_code == 201 and again.json() == created
    other = order(pay_node, buyer, sold["id"], headers=key, body={"coupon": "NOPE"})
    assert problem(other, 422)["reason"] == "idempotency_key_reused"
    page = call(pay_node, None, "GET", f"/pay/offline/{created['checkout_url'].rsplit('/', 1)[-1]}")
    assert page.status_code == 200 and "19.99 EUR" in page.text and "Pay</button>" in page.text
    paid = pay(pay_node, created)
    assert paid.status_code == 303 and paid.headers["location"].endswith("?paid=1")
    assert pay(pay_node, created).status_code == 303  # a double click charges nothing more
    done = wait_status(pay_node, buyer, created["id"], "fulfilled")
    assert done["paid_at"] and done["fulfilled_at"]
    assert roster(pay_node, staff["teacher"], c["id"]).count(me) == 1
    mail = smtp.wait_for(email, where=lambda m: m.subject.startswith("Receipt"))[0]
    assert "19.99 EUR" in mail.text and created["id"] in mail.text
    receipt = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}/receipt"))
    assert receipt["order"]["total"] == 1999 and receipt["buyer_email"] == email
    # Someone else sees no order; a student cannot refund.
    _, stranger = pay_node.register()
    assert (
        call(pay_node, stranger, "GET", f"/api/v1/payments/orders/{created['id']}").status_code
        == 404
    )
    refunds = f"/api/v1/payments/orders/{created['id']}/refunds"
    assert call(pay_node, buyer, "POST", refunds, json={}).status_code == 403
    part = call(
        pay_node,
        staff["finance"],
        "POST",
        refunds,
        json={"amount": 500},
        headers={"Idempotency-Key": "r1"},
    )
    assert part.status_code == 201, part.text
    replay = call(
        pay_node,
        staff["finance"],
        "POST",
        refunds,
        json={"amount": 500},
        headers={"Idempotency-Key": "r1"},
    )
    assert replay.status_code == 201 and replay.json() == part.json()
    kept = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert kept["status"] == "partially_refunded" and kept["refunded_amount"] == 500
    assert me in roster(pay_node, staff["teacher"], c["id"])
    too_much = call(pay_node, staff["finance"], "POST", refunds, json={"amount": 1500})
    assert problem(too_much, 422)["refundable"] == 1499
    rest = call(pay_node, staff["finance"], "POST", refunds, json={"reason": "changed mind"})
    assert rest.status_code == 201 and rest.json()["amount"] == 1499
    gone = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert gone["status"] == "refunded" and gone["refunded_amount"] == 1999 and gone["revoked_at"]
    assert me not in roster(pay_node, staff["teacher"], c["id"])
    assert call(pay_node, staff["finance"], "POST", refunds, json={}).status_code == 409
    smtp.wait_for(email, where=lambda m: m.subject.startswith("Refund receipt"))
    audit = ok(
        call(
            pay_node,
            pay_node.admin_token(),
            "GET",
            "/api/v1/audit-events",
            params={"action_prefix": "payments.", "limit": 500},
        )
    )
    actions = {e["action"] for e in audit["items"] if e["target_id"] in (created["id"], sold["id"])}
    assert {
        "payments.product.create",
        "payments.order.create",
        "payments.order.paid",
        "payments.order.fulfilled",
        "payments.order.partially_refunded",
        "payments.order.refunded",
        "payments.refund.request",
        "payments.refund",
    } <= actions


def test_tampered_bodies_and_currencies(pay_node: Node, staff: dict[str, str]) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="C", target_id=c["id"])
    _, buyer = pay_node.register()
    tampered = order(pay_node, buyer, sold["id"], body={"unit_amount": 1, "total": 0})
    problem(tampered, 422)
    usd = order(pay_node, buyer, sold["id"], body={"currency": "USD"})
    assert problem(usd, 422)["reason"] == "currency"
    lower = order(pay_node, buyer, sold["id"], body={"currency": "eur"})
    problem(lower, 422)
    fine = ok(order(pay_node, buyer, sold["id"]))
    assert fine["total"] == 1999


def test_coupon_abuse_and_free_orders(pay_node: Node, staff: dict[str, str]) -> None:
    finance = staff["finance"]
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, finance, kind="course", name="Couponed", target_id=c["id"])
    elsewhere = product(pay_node, finance, kind="plan", name="Pro", period="month", features=["hd"])
    _, buyer = pay_node.register()
    _, other = pay_node.register()
    _, third = pay_node.register()
    mine_id = ok(call(pay_node, buyer, "GET", "/api/v1/users/me"))["id"]

    def coupon(**fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            call(pay_node, finance, "POST", "/api/v1/payments/coupons", json=fields)
        )
        return created

    coupon(code="EXPIRED1", percent_off=10, expires_at="2020-01-01T00:00:00Z")
    coupon(code="ONEUSE1", percent_off=10, max_redemptions=1)
    coupon(code="FORME1", percent_off=10, user_id=mine_id)
    coupon(code="PLANONLY1", percent_off=10, product_ids=[elsewhere["id"]])
    coupon(code="FREE100", percent_off=100)
    coupon(code="DOLLARS", amount_off=100, currency="USD")

    def refused(token: str, code: str) -> str:
        return str(
            problem(order(pay_node, token, sold["id"], body={"coupon": code}), 422)["reason"]
        )

    assert refused(buyer, "EXPIRED1") == "expired"
    assert refused(other, "FORME1") == "not_yours"
    assert refused(buyer, "PLANONLY1") == "not_applicable"
    assert refused(buyer, "DOLLARS") == "currency"
    assert refused(buyer, "NOSUCH") == "unknown_coupon"
    ok(order(pay_node, third, sold["id"], body={"coupon": "ONEUSE1"}))
    assert refused(buyer, "ONEUSE1") == "used_up"
    free = ok(order(pay_node, buyer, sold["id"], body={"coupon": "free100"}))
    assert free["total"] == 0 and free["discount"] == 1999 and free["checkout_url"] is None
    wait_status(pay_node, buyer, free["id"], "fulfilled")
    assert problem(order(pay_node, buyer, sold["id"]), 409)["reason"] == "owned"
    plan = ok(order(pay_node, other, elsewhere["id"], body={"coupon": "FREE100"}))
    wait_status(pay_node, other, plan["id"], "fulfilled")
    got = ok(call(pay_node, other, "GET", "/api/v1/payments/entitlements"))
    assert got["features"] == ["hd"] and got["items"][0]["period_end"]
    assert refused(other, "FREE100") == "per_user_limit"


def test_one_open_order_per_buyer_and_thing(pay_node: Node, staff: dict[str, str]) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="Once", target_id=c["id"])
    _, buyer = pay_node.register()
    first = ok(order(pay_node, buyer, sold["id"], headers={"Idempotency-Key": "once-1"}))
    replay = order(pay_node, buyer, sold["id"], headers={"Idempotency-Key": "once-1"})
    assert replay.status_code == 201 and replay.json()["id"] == first["id"]
    second = problem(order(pay_node, buyer, sold["id"], headers={"Idempotency-Key": "once-2"}), 409)
    assert second["reason"] == "pending" and second["order_id"] == first["id"]
    assert second["checkout_url"] == first["checkout_url"]
    # A declined attempt leaves the checkout open: still the one to pay.
    assert pay(pay_node, first, "decline").status_code == 303
    wait_status(pay_node, buyer, first["id"], "failed")
    assert problem(order(pay_node, buyer, sold["id"]), 409)["order_id"] == first["id"]
    assert pay(pay_node, first).status_code == 303
    wait_status(pay_node, buyer, first["id"], "fulfilled")
    owned = problem(order(pay_node, buyer, sold["id"]), 409)
    assert owned["reason"] == "owned" and owned["order_id"] == first["id"]
    # An ordinary workshop seat: the second order holds no second seat.
    w = workshop(pay_node, staff["teacher"], 3)
    seat = product(pay_node, staff["finance"], kind="workshop", name="One", target_id=w["id"])
    held = ok(order(pay_node, buyer, seat["id"]))
    assert problem(order(pay_node, buyer, seat["id"]), 409)["order_id"] == held["id"]
    left = ok(call(pay_node, staff["teacher"], "GET", f"/api/v1/workshops/{w['id']}"))
    assert left["seats_left"] == 2


@pytest.mark.parametrize("kind", ["course", "workshop"])
def test_two_orders_at_once_make_one(pay_node: Node, staff: dict[str, str], kind: str) -> None:
    if kind == "course":
        target = course(pay_node, staff["teacher"])["id"]
    else:
        target = workshop(pay_node, staff["teacher"], 5)["id"]
    sold = product(pay_node, staff["finance"], kind=kind, name="Raced", target_id=target)
    [token] = many_buyers(pay_node, 1)
    results = asyncio.run(_race(pay_node.url, sold["id"], [token] * 6, keyed=True))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in results]
    [made] = [r.json() for r in results if r.status_code == 201]
    assert {r.json()["order_id"] for r in results if r.status_code == 409} == {made["id"]}
    mine = ok(call(pay_node, token, "GET", "/api/v1/payments/orders"))["items"]
    assert [o["id"] for o in mine if o["product_id"] == sold["id"]] == [made["id"]]
    if kind == "workshop":
        seen = ok(call(pay_node, staff["teacher"], "GET", f"/api/v1/workshops/{target}"))
        assert seen["seats_left"] == 4


def test_a_full_workshop_still_answers_its_buyers_first(
    pay_node: Node, staff: dict[str, str]
) -> None:
    """The cheap refusal of a full workshop (lms/payments/precheck.py) comes after what says
    more: a replayed key gets its stored answer, a buyer paying for a seat is told which
    order to pay, one who owns it is told so; everyone else is refused "full"."""
    w = workshop(pay_node, staff["teacher"], 2)
    seat = product(pay_node, staff["finance"], kind="workshop", name="Two", target_id=w["id"])
    payer, holder, late = many_buyers(pay_node, 3)
    paid = ok(order(pay_node, payer, seat["id"], headers={"Idempotency-Key": "full-1"}))
    held = ok(order(pay_node, holder, seat["id"], headers={"Idempotency-Key": "full-2"}))
    assert pay(pay_node, paid).status_code == 303
    wait_status(pay_node, payer, paid["id"], "fulfilled")
    replay = order(pay_node, holder, seat["id"], headers={"Idempotency-Key": "full-2"})
    assert replay.status_code == 201 and replay.json()["id"] == held["id"]
    pending = problem(order(pay_node, holder, seat["id"]), 409)
    assert pending["reason"] == "pending" and pending["order_id"] == held["id"]
    owned = problem(order(pay_node, payer, seat["id"]), 409)
    assert owned["reason"] == "owned" and owned["order_id"] == paid["id"]
    assert problem(order(pay_node, late, seat["id"]), 409)["reason"] == "full"
    reused = order(pay_node, late, seat["id"], headers={"Idempotency-Key": "full-1"})
    assert problem(reused, 409)["reason"] == "full"  # keys are per buyer: not the payer's
    dollars = order(pay_node, late, seat["id"], body={"currency": "USD"})
    assert problem(dollars, 422)["reason"] == "currency"


@pytest.mark.timeout(900)
def test_200_buyers_race_for_50_seats(pay_node: Node, staff: dict[str, str]) -> None:
    started = time.monotonic()
    w = workshop(pay_node, staff["teacher"], capacity=50)
    sold = product(pay_node, staff["finance"], kind="workshop", name="Seat", target_id=w["id"])
    # A sold workshop is bought, not registered for free.
    _, sneaky = pay_node.register()
    free = call(pay_node, sneaky, "POST", f"/api/v1/workshops/{w['id']}/registrations")
    assert problem(free, 409)["reason"] == "paid"
    tokens = many_buyers(pay_node, 200)
    print(f"registered in {time.monotonic() - started:.0f} s")
    results = asyncio.run(_race(pay_node.url, sold["id"], tokens))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 50 and codes.count(409) == 150, sorted(set(codes))
    assert all(r.json()["reason"] == "full" for r in results if r.status_code == 409)
    seated = ok(call(pay_node, staff["teacher"], "GET", f"/api/v1/workshops/{w['id']}"))
    assert seated["seats_left"] == 0
    print(f"raced in {time.monotonic() - started:.0f} s")
    winners = [(t, r.json()) for t, r in zip(tokens, results, strict=True) if r.status_code == 201]
    for _, created in winners:
        assert pay(pay_node, created).status_code == 303
    print(f"paid in {time.monotonic() - started:.0f} s")
    for token, created in winners:
        wait_status(pay_node, token, created["id"], "fulfilled")
    print(f"fulfilled in {time.monotonic() - started:.0f} s")
    listed = ok(
        call(
            pay_node,
            staff["teacher"],
            "GET",
            f"/api/v1/workshops/{w['id']}/registrations",
            params={"limit": 200},
        )
    )
    assert sum(1 for r in listed["items"] if r["status"] == "registered") == 50
    finance = ok(
        call(
            pay_node,
            staff["finance"],
            "GET",
            "/api/v1/payments/finance/orders",
            params={"status": "fulfilled", "limit": 200},
        )
    )
    assert sum(1 for o in finance["items"] if o["product_id"] == sold["id"]) == 50


async def _race(
    base: str, product_id: str, tokens: list[str], *, keyed: bool = False
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=180.0, limits=limits) as client:
        start = asyncio.Event()

        async def one(token: str, i: int) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            if keyed:
                headers["Idempotency-Key"] = f"race-{i}-{product_id}"
            await start.wait()
            return await client.post(
                "/api/v1/payments/orders",
                json={"product_id": product_id, "currency": "EUR"},
                headers=headers,
            )

        tasks = [asyncio.create_task(one(t, i)) for i, t in enumerate(tokens)]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.gather(*tasks)


def test_export_and_erasure_keep_the_books_pseudonymised(
    pay_node: Node, staff: dict[str, str]
) -> None:
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, staff["finance"], kind="course", name="Erased", target_id=c["id"])
    email, buyer = pay_node.register()
    created = ok(order(pay_node, buyer, sold["id"]))
    assert pay(pay_node, created).status_code == 303
    wait_status(pay_node, buyer, created["id"], "fulfilled")
    export = ok(call(pay_node, buyer, "GET", "/api/v1/users/me/export"))
    assert [o["order_id"] for o in export["payments"]] == [created["id"]]
    gone = call(pay_node, buyer, "DELETE", "/api/v1/users/me", json={"password": PASSWORD})
    assert gone.status_code < 300, gone.text
    books = ok(
        call(
            pay_node,
            staff["finance"],
            "GET",
            "/api/v1/payments/finance/orders",
            params={"status": "fulfilled", "limit": 200},
        )
    )
    kept = next(o for o in books["items"] if o["id"] == created["id"])
    assert kept["user_id"] is None and kept["buyer"].startswith("buyer-")
    assert kept["total"] == 1999 and kept["payment_ref"]
    receipt = ok(
        call(pay_node, staff["finance"], "GET", f"/api/v1/payments/orders/{created['id']}/receipt")
    )
    assert receipt["buyer_email"] is None and email not in str(receipt)
