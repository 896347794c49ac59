"""Notifications in real Chromium with a real SMTP server: a recording stops and its host
sees the bell count go up live (and announced politely) and gets the e-mail; the inbox and
the preferences page; forgot password, reset password and verify e-mail pages. Each page
is checked with axe-core, by keyboard and at phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from a11ykit import axe_available, expect_no_violations, no_horizontal_scroll, wider_than_viewport
from browserkit import PASSWORD, Person, launch_browser, log_in, new_person, open_browser, shot
from playwright.sync_api import Browser, expect

from kits.nodes import Node, start_node
from kits.notify import link_token, stop_a_recording
from kits.smtp import SmtpServer, smtp_server

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    axe_available()
    yield from launch_browser()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def mail_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("mail-e2e"),
        "sqlite",
        request,
        **smtp.env,
        LIVECLASS_JOBS_POLL_SECONDS="0.2",
    )


def _token(node: Node, person: Person) -> str:
    return node.login(person.email)


def test_a_stopped_recording_rings_the_hosts_bell_and_sends_the_email(
    chromium: Browser, mail_node: Node, smtp: SmtpServer
) -> None:
    host = new_person(chromium, mail_node, "Hana Host", "instructor")
    page = host.page
    try:
        log_in(host)
        bell = page.get_by_test_id("bell")
        expect(bell).to_have_attribute("aria-label", "Notifications, none unread")
        expect(page.get_by_test_id("bell-count")).to_be_hidden()
        stop_a_recording(mail_node, _token(mail_node, host), "Physics <b>live</b>")
        expect(page.get_by_test_id("bell-count")).to_have_text("1")
        expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
        expect(page.get_by_test_id("bell-live")).to_have_text("1 unread notification")
        (message,) = smtp.wait_for(host.email, where=lambda m: "Recording ready" in m.subject)
        assert "Physics &lt;b&gt;live&lt;/b&gt;" in message.html
        shot(page, "notifications-bell")
        expect_no_violations(page, "home with the bell")

        # Keyboard: the bell is a link in the tab order; Enter opens the inbox.
        bell.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
        item = page.get_by_test_id("notification")
        expect(item).to_have_count(1)
        expect(item.get_by_role("heading")).to_have_text("Recording ready: Physics <b>live</b>")
        expect(page.get_by_test_id("inbox-summary")).to_have_text("You have 1 unread notification.")
        expect_no_violations(page, "the inbox")
        # A second one arrives while the inbox is open: it appears at the top, live.
        stop_a_recording(mail_node, _token(mail_node, host), "Chemistry")
        expect(item).to_have_count(2)
        expect(page.get_by_test_id("bell-count")).to_have_text("2")
        item.first.get_by_role("button", name="Mark read: Recording ready: Chemistry").click()
        expect(page.get_by_test_id("bell-count")).to_have_text("1")
        page.get_by_test_id("mark-all").click()
        expect(page.get_by_test_id("bell-count")).to_be_hidden()
        expect(page.get_by_test_id("inbox-summary")).to_have_text(
            "You have no unread notifications."
        )
        item.last.get_by_role("link", name="Open").click()
        expect(page).to_have_url(re.compile(r"/rooms/[0-9a-f-]{36}/recordings$"))

        page.goto("/notifications/settings")
        expect(page.get_by_role("heading", name="Notification e-mails")).to_be_visible()
        recordings = page.get_by_role("group", name="Recordings")
        expect(recordings.get_by_label("E-mail me at once")).to_be_checked()
        recordings.get_by_label("In a daily digest").check()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_test_id("prefs-status")).to_have_text("Your settings are saved.")
        expect_no_violations(page, "the notification settings")
        with httpx.Client(base_url=mail_node.url) as client:
            prefs = client.get(
                "/api/v1/notifications/preferences",
                headers={"Authorization": f"Bearer {_token(mail_node, host)}"},
            ).json()
        assert prefs["categories"]["recordings"] == "daily_digest"

        page.set_viewport_size(PHONE)
        for path in ("/notifications", "/notifications/settings"):
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert no_horizontal_scroll(page), wider_than_viewport(page)
        assert not host.errors, host.errors
    finally:
        host.close()


def test_forgot_reset_and_verify_pages(
    chromium: Browser, mail_node: Node, smtp: SmtpServer
) -> None:
    email = "forgetful-e2e@example.org"
    with httpx.Client(base_url=mail_node.url) as client:
        created = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Fay Forgetful"},
        )
        assert created.status_code == 201, created.text
    person = open_browser(chromium, mail_node.url, "Fay Forgetful", email)
    page = person.page
    try:
        (verification,) = smtp.wait_for(email, where=lambda m: "Confirm" in m.subject)
        page.goto(f"/verify-email?token={link_token(verification, '/verify-email')}")
        expect(page.get_by_test_id("verify-status")).to_have_text(
            f"Thank you: {email} is confirmed."
        )
        assert "token=" not in page.url  # the token left the address bar
        expect_no_violations(page, "the verify page")

        page.goto("/login")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
        expect_no_violations(page, "the forgot password page")
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_test_id("forgot-status")).to_contain_text(
            "If an account has this address"
        )
        (reset,) = smtp.wait_for(email, where=lambda m: "Reset" in m.subject)
        token = link_token(reset, "/reset-password")
        page.goto(f"/reset-password?token={token}")
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        expect_no_violations(page, "the reset page")
        page.get_by_role("textbox", name="New password").fill("fresh-new-password-42")
        page.get_by_role("button", name="Set my new password").click()
        expect(page.get_by_test_id("reset-status")).to_contain_text("Your password is changed")
        # The link works once.
        page.goto(f"/reset-password?token={token}")
        page.get_by_role("textbox", name="New password").fill("another-password-43")
        page.get_by_role("button", name="Set my new password").click()
        expect(page.get_by_test_id("reset-status")).to_contain_text("already used")
        expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()

        page.set_viewport_size(PHONE)
        page.goto("/forgot-password")
        assert no_horizontal_scroll(page), wider_than_viewport(page)
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("fresh-new-password-42")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Log in to liveclass")).to_have_count(0)
        assert not person.errors, person.errors
    finally:
        person.close()
