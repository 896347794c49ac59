"""Refunds that fail at the provider after it accepted them, on SQLite and PostgreSQL with
the offline provider (its ``fail_refund``: a card network bouncing a refund days later, told
by a signed ``refund.failed`` webhook): the refund row turns failed with the provider's
reason, the order's refunded amount and state go back to before that refund, an enrolment
the full refund revoked comes back exactly once, a workshop seat given away meanwhile does
not (the order is flagged for finance), finance sees it on the order's events and in
reconciliation, it is audited and emitted once, and repeats, other events naming the same
failure and older success events that arrive late change nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kits.nodes import Node, node_sessions
from kits.paykit import (
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
from lms.payments.offline import OfflineProvider
from persistence.models import DomainEvent, OfflineSession

pytestmark = pytest.mark.postgres


def fail_at_provider(node: Node, refund_ref: str, reason: str) -> None:
    """The offline provider fails a refund it made (its webhook reaches the node by a job)."""

    async def run() -> None:
        async with node_sessions(node) as sessions:
            assert await OfflineProvider(sessions, list(SECRETS)).fail_refund(refund_ref, reason)

    asyncio.run(run())


def provider_refunded(node: Node, order_id: str) -> int:
    async def read() -> int:
        async with node_sessions(node) as sessions, sessions() as session:
            row = (
                await session.execute(
                    select(OfflineSession).where(OfflineSession.order_id == order_id)
                )
            ).scalar_one()
            return row.refunded_amount

    return asyncio.run(read())


def emitted(node: Node, kind: str, order_id: str) -> int:
    async def count() -> int:
        async with node_sessions(node) as sessions, sessions() as session:
            found = await session.execute(
                select(func.count()).where(
                    DomainEvent.type == kind, DomainEvent.aggregate_id == order_id
                )
            )
            return int(found.scalar_one())

    return asyncio.run(count())


def refunds_of(node: Node, finance: str, order_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(
        call(node, finance, "GET", f"/api/v1/payments/orders/{order_id}/refunds")
    )
    return rows


def provider_events(node: Node, finance: str, order_id: str) -> list[dict[str, Any]]:
    got = ok(call(node, finance, "GET", "/api/v1/payments/events", params={"order_id": order_id}))
    items: list[dict[str, Any]] = got["items"]
    return items


def wait_event(node: Node, finance: str, order_id: str, kind: str) -> dict[str, Any]:
    """The order's stored provider event of ``kind`` once it has been processed."""
    deadline = time.monotonic() + 60
    while True:
        found = [e for e in provider_events(node, finance, order_id) if e["type"] == kind]
        if found and found[0]["outcome"]:
            return found[0]
        assert time.monotonic() < deadline, f"no {kind} event for {order_id}"
        time.sleep(0.1)


def refund(node: Node, finance: str, order_id: str, **body: Any) -> dict[str, Any]:
    path = f"/api/v1/payments/orders/{order_id}/refunds"
    made: dict[str, Any] = ok(call(node, finance, "POST", path, json=body))
    return made


def roster(node: Node, teacher: str, course_id: str) -> list[str]:
    got = ok(call(node, teacher, "GET", f"/api/v1/courses/{course_id}/enrollments"))
    return [e["user_id"] for e in got if e["role"] == "student"]


def audited(node: Node, order_id: str, action: str) -> list[dict[str, Any]]:
    got = ok(
        call(
            node,
            node.admin_token(),
            "GET",
            "/api/v1/audit-events",
            params={"action": action, "limit": 500},
        )
    )
    return [e for e in got["items"] if e["target_id"] == order_id]


def test_a_failed_full_refund_restores_the_order_and_the_enrolment_once(
    pay_node: Node, staff: dict[str, str]
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    finance = staff["finance"]
    c = course(pay_node, staff["teacher"])
    sold = product(pay_node, finance, kind="course", name="Bounced", target_id=c["id"])
    _, buyer = pay_node.register()
    me = ok(call(pay_node, buyer, "GET", "/api/v1/users/me"))["id"]
    created = ok(order(pay_node, buyer, sold["id"]))
    assert pay(pay_node, created).status_code == 303
    wait_status(pay_node, buyer, created["id"], "fulfilled")
    made = refund(pay_node, finance, created["id"], reason="asked for it")
    gone = wait_status(pay_node, buyer, created["id"], "refunded")
    assert gone["revoked_at"] and me not in roster(pay_node, staff["teacher"], c["id"])
    succeeded = wait_event(pay_node, finance, created["id"], "refund.succeeded")
    assert succeeded["outcome"] == "no_change"
    # The buyer's card was closed: the provider fails the refund and says so.
    fail_at_provider(pay_node, made["refund_ref"], "expired_or_canceled_card")
    back = wait_status(pay_node, buyer, created["id"], "fulfilled")
    assert back["refunded_amount"] == 0 and back["revoked_at"] is None
    assert back["flag"] == "refund_failed"
    assert roster(pay_node, staff["teacher"], c["id"]).count(me) == 1
    assert provider_refunded(pay_node, created["id"]) == 0
    [row] = refunds_of(pay_node, finance, created["id"])
    assert (row["id"], row["status"], row["failure_reason"]) == (
        made["id"],
        "failed",
        "expired_or_canceled_card",
    )
    assert row["failed_at"]
    failed = wait_event(pay_node, finance, created["id"], "refund.failed")
    assert failed["outcome"] == "refund_failed"
    # Another event naming the same failure, the same event again, and the refund's old
    # success event arriving late: nothing moves, nothing is restored twice.
    told = {"refund_ref": made["refund_ref"], "refund": 1999, "refunded_amount": 0}
    again = event("refund.failed", created, failure_reason="expired_or_canceled_card", **told)
    assert deliver(pay_node, again, SECRETS[0]).json()["outcome"] == "no_change"
    assert deliver(pay_node, again, SECRETS[1]).json()["duplicate"] is True
    late = event("refund.succeeded", created, **{**told, "refunded_amount": 1999})
    assert deliver(pay_node, late, SECRETS[0]).json()["outcome"] == "stale"
    lump = event("refund.succeeded", created, refunded_amount=1999, refund=1999)
    assert deliver(pay_node, lump, SECRETS[0]).json()["outcome"] == "fulfilled"  # re-read
    still = ok(call(pay_node, buyer, "GET", f"/api/v1/payments/orders/{created['id']}"))
    assert (still["status"], still["refunded_amount"]) == ("fulfilled", 0)
    assert roster(pay_node, staff["teacher"], c["id"]).count(me) == 1
    assert [r["status"] for r in refunds_of(pay_node, finance, created["id"])] == ["failed"]
    [record] = audited(pay_node, created["id"], "payments.refund.failed")
    assert record["actor_kind"] == "system" and record["outcome"] == "failure"
    assert record["detail"]["failure_reason"] == "expired_or_canceled_card"
    assert record["detail"]["order_status_before"] == "refunded"
    assert record["detail"]["restored"] is True
    assert emitted(pay_node, "payments.refund_failed", created["id"]) == 1
    inbox = ok(call(pay_node, buyer, "GET", "/api/v1/notifications"))["items"]
    told_buyer = [n for n in inbox if n["title"].startswith("Your refund did not go through")]
    assert [n["link"] for n in told_buyer] == [f"/purchases/{created['id']}"]
    # Reconciliation agrees with the provider and lists the failure for finance.
    until = datetime.now(UTC) + timedelta(minutes=1)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    run = ok(call(pay_node, finance, "POST", "/api/v1/payments/reconciliation/runs", json=window))
    path = f"/api/v1/payments/reconciliation/runs/{run['id']}/differences"
    differences = ok(call(pay_node, finance, "GET", path, params={"limit": 200}))["items"]
    mine = [d for d in differences if d["order_id"] == created["id"]]
    assert [(d["kind"], d["ours_amount"]) for d in mine] == [("refund_failed", 1999)]
    # Finance can give the money back again; this time it goes through.
    again_made = refund(pay_node, finance, created["id"])
    assert again_made["amount"] == 1999 and again_made["status"] == "succeeded"
    wait_status(pay_node, buyer, created["id"], "refunded")


def test_a_failed_partial_refund_makes_the_order_fulfilled_again(
    pay_node: Node, staff: dict[str, str]
) -> None:
    finance = staff["finance"]
    w = workshop(pay_node, staff["teacher"], 3)["id"]
    sold = product(pay_node, finance, kind="workshop", name="Half back", target_id=w)
    _, buyer = pay_node.register()
    created = ok(order(pay_node, buyer, sold["id"]))
    assert pay(pay_node, created).status_code == 303
    wait_status(pay_node, buyer, created["id"], "fulfilled")
    made = refund(pay_node, finance, created["id"], amount=500)
    part = wait_status(pay_node, buyer, created["id"], "partially_refunded")
    assert part["refunded_amount"] == 500
    wait_event(pay_node, finance, created["id"], "refund.succeeded")
    fail_at_provider(pay_node, made["refund_ref"], "lost_or_stolen_card")
    back = wait_status(pay_node, buyer, created["id"], "fulfilled")
    assert back["refunded_amount"] == 0 and back["revoked_at"] is None
    seat = ok(call(pay_node, buyer, "GET", f"/api/v1/workshops/{w}"))
    assert seat["my_registration"]["status"] == "registered" and seat["seats_left"] == 2
    [record] = audited(pay_node, created["id"], "payments.refund.failed")
    assert record["detail"]["restored"] is False  # nothing was revoked
    assert record["detail"]["order_status_before"] == "partially_refunded"


def test_a_seat_given_away_meanwhile_is_not_taken_back(
    pay_node: Node, staff: dict[str, str]
) -> None:
    finance = staff["finance"]
    w = workshop(pay_node, staff["teacher"], 1)["id"]
    sold = product(pay_node, finance, kind="workshop", name="One seat", target_id=w)
    (_, first), (_, second) = pay_node.register(), pay_node.register()
    bought = ok(order(pay_node, first, sold["id"]))
    assert pay(pay_node, bought).status_code == 303
    wait_status(pay_node, first, bought["id"], "fulfilled")
    assert ok(call(pay_node, second, "POST", f"/api/v1/workshops/{w}/registrations"))
    made = refund(pay_node, finance, bought["id"])
    wait_status(pay_node, first, bought["id"], "refunded")
    theirs = ok(order(pay_node, second, sold["id"]))  # the offered seat, paid for
    assert pay(pay_node, theirs).status_code == 303
    wait_status(pay_node, second, theirs["id"], "fulfilled")
    fail_at_provider(pay_node, made["refund_ref"], "expired_or_canceled_card")
    back = wait_status(pay_node, first, bought["id"], "fulfilled")
    assert back["flag"] == "refund_failed_no_seat" and back["revoked_at"]
    assert back["refunded_amount"] == 0
    seen = ok(call(pay_node, second, "GET", f"/api/v1/workshops/{w}"))
    assert seen["my_registration"]["status"] == "registered" and seen["seats_left"] == 0
    mine = ok(call(pay_node, first, "GET", f"/api/v1/workshops/{w}"))["my_registration"]
    assert mine["status"] == "cancelled"
    [record] = audited(pay_node, bought["id"], "payments.refund.failed")
    assert record["detail"]["restored"] is False
