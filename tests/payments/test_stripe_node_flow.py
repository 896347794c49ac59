"""A node selling through the Stripe adapter, against the local fake of Stripe's API: a
checkout at the fake, the buyer pays there, Stripe's events (signed with the SDK's helper,
shuffled, duplicated, with the rotated-out secret) fulfil the order; finance refunds through
Stripe; the reconciliation finds a payment whose webhook never came; the revenue report."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kits.fake_stripe import FakeStripe, fake_stripe
from kits.nodes import Node, node_sessions, start_node

NEW, OLD = "whsec_flow_new", "whsec_flow_old"
PRICE = 4900


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with fake_stripe("sk_test_flow") as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stripe_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake: FakeStripe
) -> Iterator[Node]:
    env = {
        "LIVECLASS_PAYMENTS_PROVIDER": "stripe",
        "LIVECLASS_STRIPE_API_KEY": fake.api_key,
        "LIVECLASS_STRIPE_WEBHOOK_SECRETS": f"{NEW},{OLD}",
        "LIVECLASS_STRIPE_API_BASE": fake.url,
        "LIVECLASS_PUBLIC_URL": "http://liveclass.test",
        "LIVECLASS_JOBS_POLL_SECONDS": "0.2",
    }
    yield from start_node(tmp_path_factory.mktemp("stripe"), request.param, request, **env)


@pytest.fixture(scope="module")
def finance(stripe_node: Node) -> str:
    return stripe_node.register("finance")[1]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _seat_product(node: Node, capacity: int = 5) -> tuple[str, str]:
    with node.client(node.admin_token()) as admin:
        workshop = admin.post(
            "/api/v1/workshops",
            json={
                "title": f"Paid {uuid.uuid4().hex[:6]}",
                "time_zone": "Europe/Berlin",
                "start": "2035-03-01T18:00:00",
                "duration_minutes": 60,
                "capacity": capacity,
            },
        )
        assert workshop.status_code == 201, workshop.text
        product = admin.post(
            "/api/v1/payments/products",
            json={
                "kind": "workshop",
                "name": "Seat: Async Python",
                "target_id": workshop.json()["id"],
                "prices": [{"currency": "EUR", "unit_amount": PRICE}],
            },
        )
        assert product.status_code == 201, product.text
        return workshop.json()["id"], product.json()["id"]


def _order(node: Node, token: str, product_id: str) -> dict[str, Any]:
    with node.client(token) as client:
        made = client.post(
            "/api/v1/payments/orders",
            json={"product_id": product_id, "currency": "EUR"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert made.status_code == 201, made.text
        order: dict[str, Any] = made.json()
        return order


def _session_of(order: dict[str, Any]) -> str:
    return str(order["checkout_url"]).rsplit("/", 1)[-1]


def _deliver(node: Node, fake: FakeStripe, event: dict[str, Any], secret: str) -> httpx.Response:
    body, headers = fake.signed(event, secret)
    with node.client() as client:
        return client.post("/api/v1/payments/webhooks/stripe", content=body, headers=headers)


def _wait_status(node: Node, token: str, order_id: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    with node.client(token) as client:
        while True:
            order: dict[str, Any] = client.get(f"/api/v1/payments/orders/{order_id}").json()
            if order["status"] == wanted or time.monotonic() > deadline:
                return order
            time.sleep(0.2)


def test_checkout_at_stripe_paid_and_fulfilled_from_shuffled_duplicated_events(
    stripe_node: Node, fake: FakeStripe
) -> None:
    workshop_id, product_id = _seat_product(stripe_node)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    assert order["status"] == "pending" and order["provider"] == "stripe"
    session_id = _session_of(order)
    cs = fake.sessions[session_id]
    assert (cs["amount_total"], cs["currency"], cs["client_reference_id"]) == (
        PRICE,
        "eur",
        order["id"],
    )
    before = len(fake.events)
    fake.pay(session_id)
    events = fake.events[before:]
    events = events + events[:1] + events[-1:]
    random.Random(7).shuffle(events)
    for i, event in enumerate(events):
        answer = _deliver(stripe_node, fake, event, OLD if i % 2 else NEW)
        assert answer.status_code == 200, answer.text
    done = _wait_status(stripe_node, buyer, order["id"], "fulfilled")
    assert done["status"] == "fulfilled"
    with stripe_node.client(buyer) as client:
        mine = client.get(f"/api/v1/workshops/{workshop_id}").json()
    assert mine.get("my_registration", {}).get("status", "registered") == "registered"


def test_forged_stale_and_foreign_webhooks_change_nothing(
    stripe_node: Node, fake: FakeStripe
) -> None:
    _, product_id = _seat_product(stripe_node)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    before = len(fake.events)
    fake.pay(_session_of(order))
    completed = next(e for e in fake.events[before:] if e["type"] == "checkout.session.completed")
    assert _deliver(stripe_node, fake, completed, "whsec_forged").status_code == 400
    stale = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp())
    body, headers = fake.signed(completed, NEW, timestamp=stale)
    with stripe_node.client() as client:
        assert (
            client.post(
                "/api/v1/payments/webhooks/stripe", content=body, headers=headers
            ).status_code
            == 400
        )
        assert (
            client.post(
                "/api/v1/payments/webhooks/offline", content=body, headers=headers
            ).status_code
            == 404
        )
    with stripe_node.client(buyer) as client:
        assert client.get(f"/api/v1/payments/orders/{order['id']}").json()["status"] == "pending"
    assert _deliver(stripe_node, fake, completed, NEW).status_code == 200
    assert _wait_status(stripe_node, buyer, order["id"], "fulfilled")["status"] == "fulfilled"


def test_finance_refunds_through_stripe_and_the_event_does_not_count_twice(
    stripe_node: Node, fake: FakeStripe, finance: str
) -> None:
    _, product_id = _seat_product(stripe_node)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    before = len(fake.events)
    fake.pay(_session_of(order))
    for event in fake.events[before:]:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    _wait_status(stripe_node, buyer, order["id"], "fulfilled")
    with stripe_node.client(finance) as client:
        refund = client.post(
            f"/api/v1/payments/orders/{order['id']}/refunds",
            json={"amount": 1000, "reason": "arrived late"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert refund.status_code == 201, refund.text
        too_much = client.post(
            f"/api/v1/payments/orders/{order['id']}/refunds",
            json={"amount": PRICE},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert too_much.status_code in (409, 422), too_much.text
    pi = fake.sessions[_session_of(order)]["payment_intent"]
    refunds = [r for r in fake.refunds.values() if r["payment_intent"] == pi]
    assert [r["amount"] for r in refunds] == [1000]
    for event in fake.events_of("charge.refunded"):
        if event["data"]["object"]["payment_intent"] == pi:
            assert _deliver(stripe_node, fake, event, NEW).status_code == 200
            assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    got = _wait_status(stripe_node, buyer, order["id"], "partially_refunded")
    assert (got["status"], got["refunded_amount"]) == ("partially_refunded", 1000)


def test_reconciliation_finds_a_payment_whose_webhook_never_came(
    stripe_node: Node, fake: FakeStripe, finance: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    _, product_id = _seat_product(stripe_node)
    _, buyer = stripe_node.register()
    delivered = _order(stripe_node, buyer, product_id)
    lost = _order(stripe_node, stripe_node.register()[1], product_id)
    before = len(fake.events)
    fake.pay(_session_of(delivered))
    for event in fake.events[before:]:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    _wait_status(stripe_node, buyer, delivered["id"], "fulfilled")
    fake.pay(_session_of(lost))  # its events are never delivered
    until = datetime.now(UTC) + timedelta(minutes=1)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    with stripe_node.client(finance) as client:
        run = client.post("/api/v1/payments/reconciliation/runs", json=window)
        assert run.status_code == 201, run.text
        found = run.json()
        assert found["status"] == "differences" and found["trigger"] == "manual"
        assert found["orders_checked"] >= 2
        differences = client.get(
            f"/api/v1/payments/reconciliation/runs/{found['id']}/differences"
        ).json()["items"]
        lost_ones = [d for d in differences if d["order_id"] == lost["id"]]
        assert [d["kind"] for d in lost_ones] == ["paid_not_recorded"]
        assert lost_ones[0]["theirs_amount"] == PRICE
        assert not [d for d in differences if d["order_id"] == delivered["id"]]
        runs = client.get("/api/v1/payments/reconciliation/runs").json()["items"]
        assert runs[0]["id"] == found["id"]
        backwards = client.post(
            "/api/v1/payments/reconciliation/runs",
            json={"since": window["until"], "until": window["since"]},
        )
        assert backwards.status_code == 422
    with stripe_node.client(stripe_node.register()[1]) as student:
        assert student.get("/api/v1/payments/reconciliation/runs").status_code == 403
    with stripe_node.client(stripe_node.admin_token()) as admin:
        audited = admin.get("/api/v1/audit-events", params={"action": "payments.reconcile"}).json()[
            "items"
        ]
    assert any(a["target_id"] == str(found["id"]) for a in audited)


def test_revenue_report_by_product_and_month(stripe_node: Node, finance: str) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    params = {"first": month, "last": month}
    with stripe_node.client(finance) as client:
        report = client.get("/api/v1/payments/reports/revenue", params=params)
        assert report.status_code == 200, report.text
        rows = [r for r in report.json()["items"] if r["product_name"] == "Seat: Async Python"]
        assert rows and all(r["currency"] == "EUR" and r["month"] == month for r in rows)
        assert sum(r["orders"] for r in rows) >= 3
        assert sum(r["gross"] for r in rows) == PRICE * sum(r["orders"] for r in rows)
        assert sum(r["refunds"] for r in rows) >= 1000
        assert all(r["net"] == r["gross"] - r["refunds"] for r in rows)
        csv = client.get("/api/v1/payments/reports/revenue", params={**params, "format": "csv"})
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert (
            lines[0] == "month,product_id,product_name,currency,orders,gross,discounts,refunds,net"
        )
        assert any(",Seat: Async Python,EUR," in line for line in lines[1:])
        bad = client.get("/api/v1/payments/reports/revenue", params={**params, "tz": "Mars/Base"})
        assert bad.status_code == 422
    with stripe_node.client(stripe_node.register()[1]) as student:
        assert student.get("/api/v1/payments/reports/revenue", params=params).status_code == 403


async def test_the_nightly_job_stores_and_audits_its_run(
    stripe_node: Node, fake: FakeStripe, finance: str
) -> None:
    from jobs.types import JobContext
    from lms.payments import reconcile
    from settings import Settings

    settings = Settings(
        payments_provider="stripe",
        stripe_api_key=fake.api_key,
        stripe_webhook_secrets=NEW,
        stripe_api_base=fake.url,
        payments_reconcile_schedule="0 3 * * *",
    )
    periodic = reconcile.periodic(settings)
    assert (periodic.job.name, periodic.schedule) == ("payments.reconcile", "0 3 * * *")
    async with node_sessions(stripe_node) as sessions:
        ctx = JobContext(
            job_id=1, name=periodic.job.name, args={}, attempt=1, sessions=sessions, worker="t"
        )
        await periodic.job.handler(ctx)
    with stripe_node.client(finance) as client:
        latest = client.get("/api/v1/payments/reconciliation/runs").json()["items"][0]
    assert (latest["trigger"], latest["provider"], latest["status"]) == (
        "schedule",
        "stripe",
        "clean",  # this module's orders are younger than the 15 minutes left to webhooks
    )
    start = datetime.fromisoformat(latest["window_start"])
    end = datetime.fromisoformat(latest["window_end"])
    assert end - start == timedelta(hours=25)
    assert timedelta(minutes=14) < datetime.now(UTC) - end < timedelta(minutes=20)
    with stripe_node.client(stripe_node.admin_token()) as admin:
        audited = admin.get("/api/v1/audit-events", params={"action": "payments.reconcile"}).json()[
            "items"
        ]
    mine = [a for a in audited if a["target_id"] == str(latest["id"])]
    assert mine and mine[0]["actor_kind"] == "system"


def test_a_refund_made_in_the_stripe_dashboard_counts_once_and_revokes(
    stripe_node: Node, fake: FakeStripe, finance: str
) -> None:
    workshop_id, product_id = _seat_product(stripe_node, capacity=3)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    before = len(fake.events)
    fake.pay(_session_of(order))
    for event in fake.events[before:]:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    _wait_status(stripe_node, buyer, order["id"], "fulfilled")
    pi = fake.sessions[_session_of(order)]["payment_intent"]
    # Refunded in Stripe's dashboard, not through us: refund.created and charge.refunded,
    # each delivered twice, shuffled.
    before = len(fake.events)
    part = fake.dashboard_refund(pi, 1900)
    events = fake.events[before:] * 2
    random.Random(3).shuffle(events)
    for event in events:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    got = _wait_status(stripe_node, buyer, order["id"], "partially_refunded")
    assert got["refunded_amount"] == 1900
    refunds = f"/api/v1/payments/orders/{order['id']}/refunds"
    with stripe_node.client(finance) as client:
        rows = client.get(refunds).json()
    assert [(r["amount"], r["refund_ref"], r["status"]) for r in rows] == [
        (1900, part["id"], "succeeded")
    ]
    with stripe_node.client(buyer) as client:
        seat = client.get(f"/api/v1/workshops/{workshop_id}").json()
    assert seat["seats_left"] == 2  # a partial refund keeps the seat
    # The rest, charge.refunded first this time: the order is refunded, the seat given back.
    before = len(fake.events)
    rest = fake.dashboard_refund(pi)
    for event in reversed(fake.events[before:]):
        assert _deliver(stripe_node, fake, event, OLD).status_code == 200
    got = _wait_status(stripe_node, buyer, order["id"], "refunded")
    assert got["refunded_amount"] == PRICE and got["revoked_at"]
    with stripe_node.client(finance) as client:
        rows = client.get(refunds).json()
    assert sorted((r["amount"], r["refund_ref"]) for r in rows) == sorted(
        [(1900, part["id"]), (PRICE - 1900, rest["id"])]
    )
    with stripe_node.client(buyer) as client:
        seat = client.get(f"/api/v1/workshops/{workshop_id}").json()
    assert seat["seats_left"] == 3


async def test_a_lapsed_hold_expires_the_stripe_session(
    stripe_node: Node, fake: FakeStripe
) -> None:
    from sqlalchemy import update

    from lms.payments import orders
    from lms.payments.stripe_provider import StripeProvider
    from persistence.models import Order

    workshop_id, product_id = _seat_product(stripe_node, capacity=2)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    session_id = _session_of(order)
    assert fake.sessions[session_id]["status"] == "open"
    provider = StripeProvider(api_key=fake.api_key, webhook_secrets=[NEW], api_base=fake.url)
    try:
        async with node_sessions(stripe_node) as sessions:
            async with sessions() as session:
                await session.execute(
                    update(Order)
                    .where(Order.id == uuid.UUID(order["id"]))
                    .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
                )
                await session.commit()
            async with sessions() as session:
                await orders.expire(session, uuid.UUID(order["id"]), provider)
    finally:
        await provider.aclose()
    # Stripe's session would have stayed open 30 minutes: it is closed, nobody can pay it.
    assert fake.sessions[session_id]["status"] == "expired"
    with stripe_node.client(buyer) as client:
        got = client.get(f"/api/v1/payments/orders/{order['id']}").json()
        seat = client.get(f"/api/v1/workshops/{workshop_id}").json()
    assert got["status"] == "expired" and seat["seats_left"] == 2


def test_a_refund_stripe_fails_later_gives_the_seat_back_once(
    stripe_node: Node, fake: FakeStripe, finance: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    workshop_id, product_id = _seat_product(stripe_node, capacity=3)
    _, buyer = stripe_node.register()
    order = _order(stripe_node, buyer, product_id)
    before = len(fake.events)
    fake.pay(_session_of(order))
    for event in fake.events[before:]:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    _wait_status(stripe_node, buyer, order["id"], "fulfilled")
    before = len(fake.events)
    with stripe_node.client(finance) as client:
        made = client.post(
            f"/api/v1/payments/orders/{order['id']}/refunds",
            json={"reason": "cannot come"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert made.status_code == 201, made.text
    assert _wait_status(stripe_node, buyer, order["id"], "refunded")["revoked_at"]
    with stripe_node.client(buyer) as client:
        assert client.get(f"/api/v1/workshops/{workshop_id}").json()["seats_left"] == 3
    # The card was closed: Stripe fails the refund. Its success events and its three
    # failure events come shuffled, each twice.
    fake.fail_refund(made.json()["refund_ref"])
    events = fake.events[before:] * 2
    assert {e["type"] for e in events} == {
        "refund.created",
        "charge.refunded",
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    }
    random.Random(11).shuffle(events)
    for event in events:
        assert _deliver(stripe_node, fake, event, NEW).status_code == 200
    back = _wait_status(stripe_node, buyer, order["id"], "fulfilled")
    assert (back["refunded_amount"], back["revoked_at"], back["flag"]) == (0, None, "refund_failed")
    with stripe_node.client(buyer) as client:
        seat = client.get(f"/api/v1/workshops/{workshop_id}").json()
    assert seat["my_registration"]["status"] == "registered" and seat["seats_left"] == 2
    with stripe_node.client(finance) as client:
        rows = client.get(f"/api/v1/payments/orders/{order['id']}/refunds").json()
        assert [(r["status"], r["failure_reason"]) for r in rows] == [
            ("failed", "expired_or_canceled_card")
        ]
        stored = client.get("/api/v1/payments/events", params={"order_id": order["id"]}).json()
        outcomes = [e["outcome"] for e in stored["items"] if e["type"] == "refund.failed"]
        assert outcomes.count("refund_failed") == 1
        until = datetime.now(UTC) + timedelta(minutes=1)
        window = {"since": since.isoformat(), "until": until.isoformat()}
        run = client.post("/api/v1/payments/reconciliation/runs", json=window).json()
        differences = client.get(
            f"/api/v1/payments/reconciliation/runs/{run['id']}/differences"
        ).json()["items"]
    assert [d["kind"] for d in differences if d["order_id"] == order["id"]] == ["refund_failed"]
    with stripe_node.client(stripe_node.admin_token()) as admin:
        audited = admin.get(
            "/api/v1/audit-events", params={"action": "payments.refund.failed"}
        ).json()["items"]
    assert [a["target_id"] for a in audited].count(order["id"]) == 1
