"""Payments in real Chromium with the offline provider (issue 21): a learner buys a workshop
seat and a course (the Buy box on their pages, a coupon refused then a good one, the
provider's hosted checkout, back to the "thank you" page that follows the order to
fulfilled), is registered and enrolled, gets both receipts by e-mail through a real SMTP
server and prints one; finance staff find the order, refund it in full with a reason and
the enrolment is withdrawn; every step is in the audit log. Then the finance pages: products
and prices (create, take off sale, a second currency, by keyboard), an order's provider
references and events, and a reconciliation run whose difference links to its order. axe at
desktop and 390 px. A full sold workshop's waitlist offer is paid for from its banner."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import orjson
import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll, wider_than_viewport
from browserkit import launch_browser, log_in, new_person
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from kits.nodes import Node, node_sessions, start_node
from kits.smtp import Received, SmtpServer, smtp_server
from lms.payments.offline_wire import sign
from persistence.models import OfflineSession

UI_SECRET = "whsec_ui_current_0123456789"
PHONE: ViewportSize = {"width": 390, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def pay_ui_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    env = {
        "LIVECLASS_JOBS_POLL_SECONDS": "0.2",
        "LIVECLASS_PAYMENTS_WEBHOOK_SECRETS": UI_SECRET,
    }
    yield from start_node(
        tmp_path_factory.mktemp("payment-pages"), "sqlite", request, **smtp.env, **env
    )


def api(node: Node, token: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(token) as client:
        response: httpx.Response = client.request(method, path, **kw)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def axe(page: Page, state: str) -> None:
    """axe at desktop and at 390 px, with no sideways scrolling on the phone."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        expect_no_violations(page, f"{state} at {size['width']} px")
    assert no_horizontal_scroll(page), f"{state}: {wider_than_viewport(page)}"


def test_buy_a_seat_and_a_course_then_finance_refunds(
    chromium: Browser, pay_ui_node: Node, smtp: SmtpServer
) -> None:
    node = pay_ui_node
    _, teacher = node.register("instructor")
    finance_person = new_person(chromium, node, "Fiona Finance", "finance")
    finance = node.login(finance_person.email)
    learner = new_person(chromium, node, "Lena Learner")
    course = api(
        node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"PAY{uuid.uuid4().hex[:6]}", "title": "Paid pandas"},
    )
    api(node, teacher, "PATCH", f"/api/v1/courses/{course['id']}", json={"status": "published"})
    workshop = api(
        node,
        teacher,
        "POST",
        "/api/v1/workshops",
        json={
            "title": "Paid workshop",
            "time_zone": "Europe/Berlin",
            "start": "2030-03-04T18:00:00",
            "duration_minutes": 60,
            "capacity": 5,
        },
    )
    prices = [{"currency": "EUR", "unit_amount": 1999}]
    course_product = api(
        node,
        finance,
        "POST",
        "/api/v1/payments/products",
        json={"kind": "course", "name": "Paid pandas", "target_id": course["id"], "prices": prices},
    )
    seat_product = api(
        node,
        finance,
        "POST",
        "/api/v1/payments/products",
        json={
            "kind": "workshop",
            "name": "Paid workshop seat",
            "target_id": workshop["id"],
            "prices": [{"currency": "EUR", "unit_amount": 4900}],
        },
    )
    try:
        # Finance makes a coupon on the coupons page.
        fp = finance_person.page
        log_in(finance_person, "/finance/coupons")
        expect(fp.get_by_role("heading", name="Coupons", exact=True)).to_be_visible()
        fp.get_by_label("Code").fill("TENOFF")
        fp.get_by_label("Discount type").select_option("percent")
        fp.get_by_label("Discount (percent, or amount)").fill("10")
        fp.get_by_role("button", name="Create coupon").click()
        expect(fp.locator('[data-coupon="TENOFF"]')).to_contain_text("10 %")
        axe(fp, "the coupons page")
        fp.get_by_role("link", name="Revenue reports").click()
        expect(fp.get_by_role("heading", name="Revenue by product and month")).to_be_visible()
        axe(fp, "the revenue reports page")

        # The learner buys a seat: the Buy box replaces Register.
        page = learner.page
        log_in(learner, f"/workshops/{workshop['id']}")
        box = page.get_by_test_id("buy-box")
        expect(box.get_by_test_id("price")).to_contain_text("49.00")
        expect(page.get_by_role("button", name="Register")).to_have_count(0)
        axe(page, "a workshop with a price")
        page.get_by_label("Coupon code (optional)").fill("NOSUCH")
        page.get_by_role("button", name="Buy a seat").click()
        expect(page.get_by_test_id("buy-problem")).not_to_be_empty()
        page.get_by_label("Coupon code (optional)").fill("TENOFF")
        # A double click makes one order (one Idempotency-Key per intent).
        page.get_by_role("button", name="Buy a seat").dblclick()
        page.wait_for_url("**/pay/offline/**")
        expect(page.get_by_text("44.10")).to_be_visible()
        page.get_by_role("button", name="Pay").click()
        page.wait_for_url(f"{node.url}/purchases/**")
        expect(page.get_by_test_id("order-status")).to_have_text(
            "Paid: your access is ready.", timeout=30_000
        )
        axe(page, "the thank-you page")
        seat_order = page.url.split("/purchases/")[1].split("?")[0]
        mine = api(node, node.login(learner.email), "GET", "/api/v1/payments/orders")
        assert [o["id"] for o in mine["items"] if o["product_id"] == seat_product["id"]] == [
            seat_order
        ]
        page.goto(f"/workshops/{workshop['id']}")
        expect(page.get_by_test_id("my-place")).to_have_text("You have a seat.")

        # The course, without a coupon.
        page.goto(f"/courses/{course['id']}")
        expect(page.get_by_test_id("price")).to_contain_text("19.99")
        axe(page, "a course with a price")
        page.get_by_role("button", name="Buy", exact=True).click()
        page.wait_for_url("**/pay/offline/**")
        checkout = page.url
        # Back on the course page before paying: a second Buy makes no second order but
        # leads back to the payment already started.
        page.goto(f"/courses/{course['id']}")
        page.get_by_role("button", name="Buy", exact=True).click()
        follow = page.get_by_role("link", name="Continue to the payment you started")
        expect(follow).to_be_focused()
        expect(page.get_by_test_id("buy-problem")).to_contain_text("See the order")
        axe(page, "a course whose order is already open")
        follow.click()
        page.wait_for_url(checkout)
        page.get_by_role("button", name="Pay").click()
        page.wait_for_url(f"{node.url}/purchases/**")
        expect(page.get_by_test_id("order-status")).to_have_text(
            "Paid: your access is ready.", timeout=30_000
        )
        course_order = page.url.split("/purchases/")[1].split("?")[0]
        roles = api(node, teacher, "GET", f"/api/v1/courses/{course['id']}/enrollments")
        assert [e["role"] for e in roles if e["user_id"] == learner_id(node, learner.email)] == [
            "student"
        ]

        # Receipts by e-mail, and the printable one.
        for oid in (seat_order, course_order):
            smtp.wait_for(learner.email, where=partial(names_order, oid))
        page.goto("/purchases")
        expect(page.locator(f'[data-order="{seat_order}"]')).to_contain_text("44.10")
        axe(page, "my purchases")
        page.get_by_role("link", name="Receipt for Paid pandas").click()
        expect(page.get_by_test_id("receipt-total")).to_contain_text("19.99")
        page.emulate_media(media="print")
        expect(page.locator("header.topbar")).to_be_hidden()
        page.emulate_media(media="screen")
        axe(page, "a receipt")

        # Finance refunds the course in full; the enrolment is withdrawn.
        fp.goto("/finance/orders?status=fulfilled")
        expect(fp.locator(f'[data-order="{course_order}"]')).to_be_visible()
        axe(fp, "the finance orders")
        fp.locator(f'[data-order="{course_order}"]').get_by_role("link").click()
        expect(fp.get_by_test_id("order-status")).to_have_text("Paid: your access is ready.")
        axe(fp, "a finance order")
        fp.get_by_label("Amount to refund (EUR)").fill("25")
        fp.get_by_label("Reason").fill("Asked for a refund")
        fp.get_by_role("button", name="Refund…").click()
        expect(fp.get_by_test_id("refund-problem")).to_contain_text("at most")
        fp.get_by_label("Amount to refund (EUR)").fill("")
        fp.get_by_role("button", name="Refund…").click()
        dialog = fp.get_by_role("dialog")
        expect(dialog).to_contain_text("A full refund withdraws the access.")
        dialog.get_by_role("button", name="Refund").click()
        expect(fp.get_by_test_id("order-status")).to_have_text(
            "Refunded: the access was withdrawn."
        )
        expect(fp.get_by_test_id("refunded")).to_contain_text("19.99")
        roles = api(node, teacher, "GET", f"/api/v1/courses/{course['id']}/enrollments")
        me = learner_id(node, learner.email)
        assert not [e for e in roles if e["user_id"] == me and e["role"] == "student"]
        page.goto(f"/purchases/{course_order}")
        expect(page.get_by_test_id("order-status")).to_have_text(
            "Refunded: the access was withdrawn."
        )

        # The revenue report: a table, and the same as CSV.
        fp.goto("/finance/reports")
        fp.get_by_role("button", name="Show").click()
        expect(fp.get_by_role("table")).to_contain_text("Paid workshop seat")
        axe(fp, "a revenue report")
        with fp.expect_download() as got:
            fp.get_by_role("button", name="Download CSV").click()
        csv_path = got.value.path()
        assert "Paid pandas" in csv_path.read_text(encoding="utf-8")

        # Every step in the audit log.
        audit = api(
            node,
            node.admin_token(),
            "GET",
            "/api/v1/audit-events",
            params={"action_prefix": "payments.", "limit": 500},
        )
        actions: dict[str, set[str]] = {}
        for event in audit["items"]:
            actions.setdefault(event["target_id"] or "", set()).add(event["action"])
        assert "payments.product.create" in actions[course_product["id"]]
        assert "payments.product.create" in actions[seat_product["id"]]
        paid = {"payments.order.create", "payments.order.paid", "payments.order.fulfilled"}
        assert paid <= actions[seat_order]
        assert paid | {"payments.refund.request", "payments.refund"} <= actions[course_order]
        assert "payments.order.refunded" in actions[course_order]
        assert any("payments.coupon.create" in a for a in actions.values())
    finally:
        for person in (learner, finance_person):
            person.close()


def learner_id(node: Node, email: str) -> str:
    me: dict[str, Any] = api(node, node.login(email), "GET", "/api/v1/users/me")
    return str(me["id"])


def names_order(order_id: str, mail: Received) -> bool:
    return order_id in mail.text


def fulfilled(node: Node, token: str, order_id: str) -> None:
    """Wait until the provider's webhook made the order fulfilled."""
    deadline = time.monotonic() + 60
    while api(node, token, "GET", f"/api/v1/payments/orders/{order_id}")["status"] != "fulfilled":
        assert time.monotonic() < deadline, f"order {order_id} not fulfilled"
        time.sleep(0.2)


def pay_offline(node: Node, order: dict[str, Any]) -> None:
    """The buyer presses Pay on the offline provider's hosted page."""
    session = str(order["checkout_url"]).rsplit("/", 1)[-1]
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        assert client.post(f"/pay/offline/{session}/pay").status_code == 303


def test_finance_products_provider_events_and_reconciliation(
    chromium: Browser, pay_ui_node: Node
) -> None:
    node = pay_ui_node
    _, teacher = node.register("instructor")
    _, buyer = node.register()
    finance_person = new_person(chromium, node, "Frank Finance", "finance")
    course = api(
        node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"PRD{uuid.uuid4().hex[:6]}", "title": "Priced statistics"},
    )
    try:
        # Products and prices: create one for the course, take it off sale, price it in USD.
        fp = finance_person.page
        log_in(finance_person, "/finance/products")
        expect(fp.get_by_role("heading", name="Products and prices", exact=True)).to_be_visible()
        fp.get_by_label("Sells").select_option("course")
        fp.get_by_label("Name", exact=True).fill("Statistics course")
        fp.get_by_label("Course or workshop id").fill(course["id"])
        fp.get_by_label("Currency", exact=True).fill("EUR")
        fp.get_by_label("Price", exact=True).fill("29.50")
        fp.get_by_role("button", name="Create product").click()
        row = fp.locator("tr", has_text="Statistics course")
        expect(row).to_contain_text("29.50")
        expect(row).to_contain_text("On sale")
        axe(fp, "the products page")
        edit = fp.get_by_role("button", name="Edit Statistics course")
        edit.focus()
        fp.keyboard.press("Enter")
        editor = fp.get_by_test_id("product-editor")
        expect(fp.get_by_role("heading", name="Edit: Statistics course")).to_be_focused()
        editor.get_by_label("On sale (buyers can order it)").uncheck()
        editor.get_by_role("button", name="Save").click()
        expect(row).to_contain_text("Not on sale")
        editor = fp.get_by_test_id("product-editor")
        editor.get_by_label("Currency", exact=True).fill("USD")
        editor.get_by_label("Price", exact=True).fill("32")
        editor.get_by_role("button", name="Set price").click()
        expect(row).to_contain_text("32.00")
        axe(fp, "the product editor")
        sold = api(
            node, node.login(finance_person.email), "GET", "/api/v1/payments/finance/products"
        )
        mine = next(p for p in sold["items"] if p["name"] == "Statistics course")
        assert not mine["active"]
        assert {(p["currency"], p["unit_amount"]) for p in mine["prices"]} == {
            ("EUR", 2950),
            ("USD", 3200),
        }
        fp.get_by_role("button", name="Edit Statistics course").click()
        fp.get_by_test_id("product-editor").get_by_label("On sale (buyers can order it)").check()
        fp.get_by_test_id("product-editor").get_by_role("button", name="Save").click()
        expect(row).to_contain_text("On sale")

        # An order's page shows its provider references and the provider's events.
        order = api(
            node,
            buyer,
            "POST",
            "/api/v1/payments/orders",
            json={"product_id": mine["id"], "currency": "EUR"},
        )
        pay_offline(node, order)
        fulfilled(node, buyer, order["id"])
        fp.goto(f"/finance/orders/{order['id']}")
        expect(fp.get_by_test_id("order-status")).to_have_text(
            "Paid: your access is ready.", timeout=30_000
        )
        expect(fp.get_by_test_id("session-ref")).to_contain_text("cs_off_")
        expect(fp.get_by_test_id("payment-ref")).to_contain_text("pi_off_")
        events = fp.get_by_test_id("provider-events")
        expect(events).to_contain_text("checkout.completed")
        expect(events.locator("tbody tr")).to_have_count(1)
        axe(fp, "a finance order with its provider events")

        # Reconciliation: a payment whose webhook never came is a difference, linked.
        _, second = node.register()
        lost = api(
            node,
            second,
            "POST",
            "/api/v1/payments/orders",
            json={"product_id": mine["id"], "currency": "USD"},
            headers={"Host": "blackhole.invalid"},
        )
        pay_offline(node, lost)
        fp.get_by_role("link", name="Reconciliation").click()
        expect(fp.get_by_role("heading", name="Reconciliation", exact=True)).to_be_visible()
        fp.get_by_role("button", name="Start run").click()
        first = fp.locator("tbody tr[data-run]").first
        expect(first).to_contain_text("manual")
        first.get_by_role("button").click()
        expect(fp.get_by_role("heading", name="Differences found by run")).to_be_focused()
        found = fp.get_by_test_id("differences")
        expect(found.locator('[data-difference="paid_not_recorded"]')).to_have_count(1)
        axe(fp, "the reconciliation page")
        found.locator('[data-difference="paid_not_recorded"]').get_by_role("link").click()
        fp.wait_for_url(f"**/finance/orders/{lost['id']}")
        expect(fp.get_by_test_id("payment-ref")).to_contain_text("—")
    finally:
        finance_person.close()


def test_a_late_seat_payment_with_no_seat_left_says_it_was_refunded(
    chromium: Browser, pay_ui_node: Node
) -> None:
    node = pay_ui_node
    _, teacher = node.register("instructor")
    _, finance = node.register("finance")
    workshop = api(
        node,
        teacher,
        "POST",
        "/api/v1/workshops",
        json={
            "title": "One-seat workshop",
            "time_zone": "Europe/Berlin",
            "start": "2030-05-06T18:00:00",
            "duration_minutes": 60,
            "capacity": 1,
        },
    )
    seat = api(
        node,
        finance,
        "POST",
        "/api/v1/payments/products",
        json={
            "kind": "workshop",
            "name": "The last seat",
            "target_id": workshop["id"],
            "prices": [{"currency": "EUR", "unit_amount": 1500}],
        },
    )
    late = new_person(chromium, node, "Larry Late")
    try:
        token = node.login(late.email)
        body = {"product_id": seat["id"], "currency": "EUR"}
        # Paid at the provider, but its webhook is lost and the hold lapses first.
        mine = api(
            node, token, "POST", "/api/v1/payments/orders", json=body, headers={"Host": BLACKHOLE}
        )
        pay_offline(node, mine)
        signed(node, "checkout.expired", mine)
        _, other = node.register()
        theirs = api(node, other, "POST", "/api/v1/payments/orders", json=body)
        pay_offline(node, theirs)
        fulfilled(node, other, theirs["id"])
        signed(node, "checkout.completed", mine, payment_ref=offline_payment_ref(node, mine))
        log_in(late, f"/purchases/{mine['id']}")
        expect(late.page.get_by_test_id("order-status")).to_have_text(
            "Your payment came after the seat we held had lapsed and the workshop was full: "
            "it was refunded in full.",
            timeout=30_000,
        )
        axe(late.page, "a purchase refunded for want of a seat")
    finally:
        late.close()


BLACKHOLE = "blackhole.invalid"  # a Host whose webhooks never arrive


def signed(node: Node, kind: str, order: dict[str, Any], **data: Any) -> None:
    """A webhook from the offline provider, signed with the node's secret, delivered now."""
    body = orjson.dumps(
        {
            "id": f"evt_ui_{uuid.uuid4().hex}",
            "type": kind,
            "created": int(time.time()),
            "data": {
                "order_id": order["id"],
                "session_id": str(order["checkout_url"]).rsplit("/", 1)[-1],
                "amount": order["total"],
                "currency": order["currency"],
                **data,
            },
        }
    )
    header = sign(body, UI_SECRET, int(time.time()))
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        answer = client.post(
            "/api/v1/payments/webhooks/offline",
            content=body,
            headers={"content-type": "application/json", "Liveclass-Signature": header},
        )
    assert answer.status_code == 200, answer.text


def offline_payment_ref(node: Node, order: dict[str, Any]) -> str:
    async def read() -> str:
        async with node_sessions(node) as sessions, sessions() as session:
            row = (
                await session.execute(
                    select(OfflineSession).where(OfflineSession.order_id == order["id"])
                )
            ).scalar_one()
            return str(row.payment_ref)

    # Playwright's sync API keeps an event loop on this thread: read on another one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_a_paid_workshops_waitlist_offer_is_paid_for(chromium: Browser, pay_ui_node: Node) -> None:
    """A full sold workshop's waitlist is joined on its page; a refund offers the seat and
    the offer banner says to pay (with the price), not to confirm free; paying through the
    normal checkout gives the learner the seat."""
    node = pay_ui_node
    _, teacher = node.register("instructor")
    _, finance = node.register("finance")
    workshop = api(
        node,
        teacher,
        "POST",
        "/api/v1/workshops",
        json={
            "title": "Waitlisted workshop",
            "time_zone": "Europe/Berlin",
            "start": "2030-07-08T18:00:00",
            "duration_minutes": 60,
            "capacity": 1,
        },
    )
    seat = api(
        node,
        finance,
        "POST",
        "/api/v1/payments/products",
        json={
            "kind": "workshop",
            "name": "A waitlisted seat",
            "target_id": workshop["id"],
            "prices": [{"currency": "EUR", "unit_amount": 2500}],
        },
    )
    _, first = node.register()
    body = {"product_id": seat["id"], "currency": "EUR"}
    bought = api(node, first, "POST", "/api/v1/payments/orders", json=body)
    pay_offline(node, bought)
    fulfilled(node, first, bought["id"])
    waiting = new_person(chromium, node, "Wanda Waiting")
    try:
        page = waiting.page
        log_in(waiting, f"/workshops/{workshop['id']}")
        page.get_by_role("button", name="Join the waitlist").click()
        expect(page.get_by_test_id("my-place")).to_contain_text("waitlist")
        refunds = f"/api/v1/payments/orders/{bought['id']}/refunds"
        api(node, finance, "POST", refunds, json={}, headers={"Idempotency-Key": bought["id"]})
        deadline = time.monotonic() + 60
        while api(node, first, "GET", f"/api/v1/payments/orders/{bought['id']}")["status"] != (
            "refunded"
        ):
            assert time.monotonic() < deadline, "the refund did not complete"
            time.sleep(0.2)
        page.reload()
        expect(page.get_by_test_id("my-place")).to_contain_text("pay for it before")
        expect(page.get_by_test_id("price")).to_contain_text("25.00")
        expect(page.get_by_role("button", name="Confirm my seat")).to_have_count(0)
        axe(page, "a paid seat offered from the waitlist")
        page.get_by_role("button", name="Pay to take your seat").click()
        page.wait_for_url("**/pay/offline/**")
        page.get_by_role("button", name="Pay").click()
        page.wait_for_url(f"{node.url}/purchases/**")
        expect(page.get_by_test_id("order-status")).to_have_text(
            "Paid: your access is ready.", timeout=30_000
        )
        page.goto(f"/workshops/{workshop['id']}")
        expect(page.get_by_test_id("my-place")).to_have_text("You have a seat.")
    finally:
        waiting.close()
