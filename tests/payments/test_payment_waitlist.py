"""A paid workshop's waitlist, on SQLite and PostgreSQL with the offline provider: a full
sold workshop's waitlist is joined free, a refund frees the seat and the first waiting
learner is offered it, confirming it without paying is refused (409 payment_required),
their checkout uses the seat the offer holds (a coupon still applies; a second order is
refused, pointing at the first) and paying registers them exactly once; an offer that
lapses with its checkout unpaid moves to the next learner and the lapsed checkout's expiry
gives nothing away twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from kits.nodes import Node, node_sessions
from kits.paykit import (
    BLACKHOLE,
    SECRETS,
    call,
    ok,
    order,
    pay,
    problem,
    product,
    wait_status,
    workshop,
)
from lms.payments import orders
from lms.payments.offline import OfflineProvider
from persistence.models import Job, Order, WorkshopRegistration

pytestmark = pytest.mark.postgres


def mine(node: Node, token: str, workshop_id: str) -> dict[str, Any]:
    got: dict[str, Any] = ok(call(node, token, "GET", f"/api/v1/workshops/{workshop_id}"))
    return got


def statuses(node: Node, teacher: str, workshop_id: str) -> dict[str, str]:
    path = f"/api/v1/workshops/{workshop_id}/registrations"
    return {r["user_id"]: r["status"] for r in ok(call(node, teacher, "GET", path))["items"]}


def refund_all(node: Node, finance: str, token: str, order_id: str) -> None:
    path = f"/api/v1/payments/orders/{order_id}/refunds"
    made = call(node, finance, "POST", path, json={}, headers={"Idempotency-Key": order_id})
    assert made.status_code == 201, made.text
    wait_status(node, token, order_id, "refunded")


def lapse_offer_and_order(node: Node, registration_id: str, order_id: str) -> None:
    """The offer's deadline passes with its checkout unpaid: its expiry job is due now
    (the node's worker runs it), then the order's expiry runs as the worker would."""

    async def run() -> None:
        now = datetime.now(UTC)
        async with node_sessions(node) as sessions:
            async with sessions() as session:
                await session.execute(
                    update(WorkshopRegistration)
                    .where(WorkshopRegistration.id == uuid.UUID(registration_id))
                    .values(offered_until=now - timedelta(seconds=1))
                )
                await session.execute(
                    update(Order)
                    .where(Order.id == uuid.UUID(order_id))
                    .values(expires_at=now - timedelta(seconds=1))
                )
                jobs = await session.execute(
                    select(Job).where(Job.name == "workshops.expire_offer")
                )
                due = [j.id for j in jobs.scalars() if j.args["registration_id"] == registration_id]
                assert due
                await session.execute(update(Job).where(Job.id.in_(due)).values(run_at=now))
                await session.commit()
            for _ in range(600):
                async with sessions() as session:
                    row = await session.get(WorkshopRegistration, uuid.UUID(registration_id))
                    if row is not None and row.status == "expired":
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the offer's expiry job did not run")
            provider = OfflineProvider(sessions, list(SECRETS))
            async with sessions() as session:
                await orders.expire(session, uuid.UUID(order_id), provider)

    asyncio.run(run())


def test_a_refunded_seat_is_offered_and_must_be_paid_for(
    pay_node: Node, staff: dict[str, str]
) -> None:
    w = workshop(pay_node, staff["teacher"], capacity=1)["id"]
    sold = product(pay_node, staff["finance"], kind="workshop", name="Wait seat", target_id=w)
    register = f"/api/v1/workshops/{w}/registrations"
    people = [pay_node.register() for _ in range(4)]
    tokens = [token for _, token in people]
    ids = [ok(call(pay_node, t, "GET", "/api/v1/users/me"))["id"] for t in tokens]
    first, second, third, fourth = tokens
    # A seat is left: it is bought, not taken free.
    assert problem(call(pay_node, second, "POST", register), 409)["reason"] == "paid"
    bought = ok(order(pay_node, first, sold["id"]))
    assert pay(pay_node, bought).status_code == 303
    wait_status(pay_node, first, bought["id"], "fulfilled")
    # Full: the waitlist is joined free, in arrival order.
    waiting = [ok(call(pay_node, t, "POST", register)) for t in (second, third, fourth)]
    assert [r["status"] for r in waiting] == ["waitlisted"] * 3

    # A refund frees the seat: the first waiting learner is offered it.
    refund_all(pay_node, staff["finance"], first, bought["id"])
    seen = mine(pay_node, second, w)
    offer = seen["my_registration"]
    assert offer["status"] == "offered" and seen["seats_left"] == 0
    assert statuses(pay_node, staff["teacher"], w)[ids[0]] == "cancelled"
    # Confirming without paying is refused; someone else cannot buy the held seat.
    confirm = f"/api/v1/workshop-registrations/{offer['id']}/confirm"
    refused = problem(call(pay_node, second, "POST", confirm), 409)
    assert refused["reason"] == "payment_required" and refused["workshop_id"] == w
    assert mine(pay_node, second, w)["my_registration"]["status"] == "offered"
    assert problem(order(pay_node, third, sold["id"]), 409)["reason"] == "full"
    # Their checkout uses the offered seat, priced on the server with their coupon; it
    # ends when the offer does.
    coupon = {"code": f"WAIT{uuid.uuid4().hex[:6]}", "percent_off": 50}
    ok(call(pay_node, staff["finance"], "POST", "/api/v1/payments/coupons", json=coupon))
    theirs = ok(order(pay_node, second, sold["id"], body={"coupon": coupon["code"]}))
    assert (theirs["subtotal"], theirs["discount"], theirs["total"]) == (1999, 1000, 999)
    # One checkout for the offered seat: a second order points at the first.
    twice = problem(order(pay_node, second, sold["id"], headers={"Idempotency-Key": "w2"}), 409)
    assert twice["reason"] == "pending" and twice["order_id"] == theirs["id"]
    until = datetime.fromisoformat(offer["offered_until"])
    assert datetime.fromisoformat(theirs["expires_at"]) <= until
    assert pay(pay_node, theirs).status_code == 303
    wait_status(pay_node, second, theirs["id"], "fulfilled")
    # Paying registered them exactly once, in the one seat.
    after = mine(pay_node, second, w)
    assert after["my_registration"]["status"] == "registered" and after["seats_left"] == 0
    assert statuses(pay_node, staff["teacher"], w) == {
        ids[0]: "cancelled",
        ids[1]: "registered",
        ids[2]: "waitlisted",
        ids[3]: "waitlisted",
    }
    grants = ok(call(pay_node, second, "GET", "/api/v1/payments/entitlements"))["items"]
    assert [g["order_id"] for g in grants] == [theirs["id"]]
    assert problem(call(pay_node, second, "POST", confirm), 409)["reason"] == "not_offered"

    # Their refund offers the seat to the next; that offer lapses with its checkout unpaid.
    refund_all(pay_node, staff["finance"], second, theirs["id"])
    offered = mine(pay_node, third, w)["my_registration"]
    assert offered["status"] == "offered"
    unpaid = ok(order(pay_node, third, sold["id"], headers={"Host": BLACKHOLE}))
    lapse_offer_and_order(pay_node, offered["id"], unpaid["id"])
    assert ok(call(pay_node, third, "GET", f"/api/v1/payments/orders/{unpaid['id']}"))[
        "status"
    ] == ("expired")
    # The seat went to the next learner once: one offer, no seat given back twice.
    assert statuses(pay_node, staff["teacher"], w) == {
        ids[0]: "cancelled",
        ids[1]: "cancelled",
        ids[2]: "expired",
        ids[3]: "offered",
    }
    assert mine(pay_node, fourth, w)["seats_left"] == 0
    last = ok(order(pay_node, fourth, sold["id"]))
    assert pay(pay_node, last).status_code == 303
    wait_status(pay_node, fourth, last["id"], "fulfilled")
    assert statuses(pay_node, staff["teacher"], w)[ids[3]] == "registered"
    assert mine(pay_node, fourth, w)["seats_left"] == 0


def test_a_free_workshops_offer_is_still_confirmed_free(
    pay_node: Node, staff: dict[str, str]
) -> None:
    w = workshop(pay_node, staff["teacher"], capacity=1)["id"]
    register = f"/api/v1/workshops/{w}/registrations"
    (_, seated), (_, waiting) = pay_node.register(), pay_node.register()
    held = ok(call(pay_node, seated, "POST", register))
    assert ok(call(pay_node, waiting, "POST", register))["status"] == "waitlisted"
    ok(call(pay_node, seated, "POST", f"/api/v1/workshop-registrations/{held['id']}/cancel"))
    offer = mine(pay_node, waiting, w)["my_registration"]
    assert offer["status"] == "offered"
    confirm = f"/api/v1/workshop-registrations/{offer['id']}/confirm"
    assert ok(call(pay_node, waiting, "POST", confirm))["status"] == "registered"
