"""The admin Webhooks page in real Chromium against a node delivering to a real receiver:
register an endpoint with chosen event types, copy the secret shown once, send a test,
read the delivery log and its details, redeliver, rotate the secret, disable and enable;
axe-core finds nothing (desktop and phone), the page fits a phone and works by keyboard;
a student is told the page is for admins."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from a11ykit import axe_violations, describe, no_horizontal_scroll, wider_than_viewport
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, expect

from kits.nodes import Node, start_node
from kits.receiver import Receiver, receiving
from kits.servers import ROOT


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def hooks_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node allowed to call the receiver on 127.0.0.1."""
    yield from start_node(
        tmp_path_factory.mktemp("hooks-web"),
        "sqlite",
        request,
        LIVECLASS_WEBHOOKS_ALLOW_PRIVATE="true",
        LIVECLASS_WEBHOOKS_ALLOW_HTTP="true",
        LIVECLASS_WEBHOOKS_TIMEOUT_SECONDS="2",
        PYTHONPATH=str(ROOT),
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def assert_accessible(person: Person, state: str) -> None:
    found = axe_violations(person.page)
    assert not found, f"axe found {len(found)} violation(s) in {state}:\n{describe(found)}"


def test_an_admin_registers_tests_and_manages_an_endpoint(
    chromium: Browser, hooks_node: Node, receiver: Receiver
) -> None:
    admin = new_person(chromium, hooks_node, "Ada Admin", "admin")
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = admin.page
    where = f"/web-{os.getpid()}"
    try:
        log_in(admin)
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        assert_accessible(admin, "the empty webhooks page")

        # A bad URL is refused with the server's reason, next to the form.
        page.get_by_label("Endpoint URL").fill("https://169.254.169.254/latest")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("alert")).to_contain_text("link-local")

        # By keyboard: the URL, "only these events", one event type, Enter.
        page.get_by_label("Endpoint URL").fill(receiver.url + where)
        page.get_by_label("Description (optional)").fill("Our CRM")
        page.get_by_label("Only the events I choose").check()
        page.get_by_label("webhook.endpoint_disabled").check()
        page.get_by_label("Endpoint URL").press("Enter")

        secret = page.get_by_role("textbox", name="Signing secret")
        expect(secret).to_be_visible()
        assert secret.input_value().startswith("whsec_")
        expect(page.get_by_text("it is shown only this once")).to_be_visible()
        page.get_by_role("button", name="Copy secret").click()
        expect(page.get_by_text("Secret copied").first).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == secret.input_value()
        shot(page, "webhooks-secret")
        assert_accessible(admin, "the secret shown once")
        page.get_by_role("button", name="I saved it").click()
        expect(page.get_by_role("textbox", name="Signing secret")).to_have_count(0)

        card = page.locator("li[data-endpoint-id]")
        expect(card).to_have_count(1)
        expect(card.get_by_text("Events: webhook.endpoint_disabled")).to_be_visible()
        url = receiver.url + where
        card.get_by_role("button", name=f"Send test: {url}").click()
        card.get_by_role("button", name=f"Deliveries: {url}").click()
        expect(page.get_by_role("heading", name=f"Deliveries to {url}")).to_be_visible()
        row = page.locator("tr[data-delivery-id]").first
        for _ in range(50):
            if row.get_by_text("delivered").count():
                break
            page.get_by_role("button", name="Refresh").click()
            page.wait_for_timeout(200)
        expect(row.get_by_text("delivered")).to_be_visible()
        assert len(receiver.received(where)) == 1
        row.get_by_role("button", name="Details of delivery").click()
        expect(page.locator("pre.excerpt").first).to_contain_text('"type":"webhook.test"')
        assert_accessible(admin, "the delivery log with details")

        row.get_by_role("button", name="Redeliver delivery").click()
        for _ in range(50):
            if len(receiver.received(where)) == 2:
                break
            page.wait_for_timeout(100)
        first, second = receiver.received(where)
        assert first.headers["webhook-id"] == second.headers["webhook-id"]

        card.get_by_role("button", name=f"Rotate secret: {url}").click()
        page.get_by_role("dialog").get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("textbox", name="Signing secret")).to_be_visible()
        expect(page.get_by_text("The previous secret keeps signing")).to_be_visible()
        page.get_by_role("button", name="I saved it").click()

        card.get_by_role("button", name=f"Disable: {url}").click()
        page.get_by_role("dialog").get_by_role("button", name="Disable").click()
        expect(card.get_by_text("Disabled", exact=True)).to_be_visible()
        expect(card.get_by_text("Disabled by an admin.")).to_be_visible()
        card.get_by_role("button", name=f"Enable: {url}").click()
        expect(card.get_by_text("Enabled", exact=True)).to_be_visible()

        page.set_viewport_size({"width": 375, "height": 800})
        card.get_by_role("button", name=f"Deliveries: {url}").click()
        assert no_horizontal_scroll(page), wider_than_viewport(page)
        shot(page, "webhooks-phone")
        assert_accessible(admin, "the webhooks page at phone width")
        assert not admin.errors, admin.errors
    finally:
        admin.close()


def test_a_student_is_told_the_page_is_for_admins(chromium: Browser, hooks_node: Node) -> None:
    student = new_person(chromium, hooks_node, "Sam Student")
    try:
        log_in(student, "/admin/webhooks")
        expect(student.page.get_by_role("alert")).to_have_text(
            "Only administrators manage webhooks."
        )
        expect(student.page.get_by_role("link", name="Webhooks")).to_have_count(0)
    finally:
        student.close()
