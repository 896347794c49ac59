"""Sign up, log in and log out in real Chromium; what a student's home page offers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from browserkit import PASSWORD, launch_browser, open_browser, shot
from playwright.sync_api import Browser, expect

from kits.nodes import Node


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


def test_sign_up_log_out_and_log_in_again(chromium: Browser, sqlite_node: Node) -> None:
    email = f"newcomer-{os.getpid()}@example.org"
    person = open_browser(chromium, sqlite_node.url, "Nia Newcomer", email)
    page = person.page
    try:
        page.goto("/")
        expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
        shot(page, "00-login")
        page.get_by_role("link", name="Create an account").click()
        expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
        page.get_by_label("Your name").fill("Nia Newcomer")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("short")
        shot(page, "00-signup")
        page.get_by_role("button", name="Create account").click()  # the browser refuses it
        assert page.eval_on_selector("#auth-password", "el => el.validity.tooShort")
        expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Welcome, Nia Newcomer")).to_be_visible()
        expect(page.get_by_test_id("whoami")).to_have_text("Nia Newcomer · student")
        # Students join classes; only instructors start them.
        expect(page.get_by_role("heading", name="Join your class")).to_be_visible()
        expect(page.get_by_label("Class title")).to_have_count(0)
        expect(page.get_by_text("No rooms yet")).to_be_visible()
        shot(page, "00-home-student")

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
        page.goto("/")  # still signed out after a reload
        expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()

        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Welcome, Nia Newcomer")).to_be_visible()
        assert not person.errors, person.errors
    finally:
        person.close()


def test_a_room_link_for_someone_signed_out_goes_through_login(
    chromium: Browser, sqlite_node: Node
) -> None:
    email, token = sqlite_node.register("instructor")
    with sqlite_node.client(token) as client:
        room = client.post("/api/v1/rooms", json={"title": "Open house", "open": True}).json()
    person = open_browser(chromium, sqlite_node.url, "Ola", email)
    try:
        person.page.goto(f"/rooms/{room['id']}")
        expect(person.page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
        assert "next=" in person.page.url
        person.page.get_by_label("Email").fill(email)
        person.page.get_by_label("Password").fill(PASSWORD)
        person.page.get_by_role("button", name="Log in").click()
        expect(person.page.locator(".room-title")).to_have_text("Open house")
        person.page.goto("/rooms/00000000-0000-0000-0000-000000000000")
        expect(person.page.get_by_test_id("closed-reason")).to_contain_text("No such room")
    finally:
        person.close()
