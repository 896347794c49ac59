"""Payments in real Chromium with the offline provider (issue 21): a learner buys a workshop
seat and a course (the Buy box on their pages, a coupon refused then a good one, the
provider's hosted checkout, back to the "thank you" page that follows the order to
fulfilled), is registered and enrolled, gets both receipts by e-mail through a real SMTP
server and prints one; finance staff find the order, refund it in full with a reason and
the enrolment is withdrawn; every step is in the audit log. axe at desktop and 390 px."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll, wider_than_viewport
from browserkit import launch_browser, log_in, new_person
from playwright.sync_api import Browser, Page, ViewportSize, expect

from kits.nodes import Node, start_node
from kits.smtp import SmtpServer, smtp_server

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
        "LIVECLASS_PAYMENTS_WEBHOOK_SECRETS": "whsec_ui_current_0123456789",
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
            smtp.wait_for(learner.email, where=lambda m, oid=oid: oid in m.text)
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
