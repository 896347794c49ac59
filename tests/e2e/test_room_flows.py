"""More of a live class in real Chromium: the waiting room, breakout rooms, a phone-sized
screen used with the keyboard, and ending the class for everyone."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from browserkit import (
    Person,
    chat_message,
    create_account,
    launch_browser,
    log_in,
    open_browser,
    send_chat,
    shot,
    side_tab,
)
from playwright.sync_api import Browser, expect

from kits.nodes import Node

_ids = itertools.count()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


def person(
    chromium: Browser, node: Node, name: str, role: str = "student", **options: object
) -> Person:
    email = f"{name.split()[0].lower()}{next(_ids)}-{os.getpid()}@example.org"
    create_account(node.url, name, email)
    if role != "student":
        node.set_role(email, role)
    return open_browser(chromium, node.url, name, email, **options)


def start_room(teacher: Person, title: str, *, lobby: bool = False) -> str:
    log_in(teacher)
    page = teacher.page
    page.get_by_label("Class title").fill(title)
    if lobby:
        page.get_by_label("Waiting room").check()
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".room-title")).to_have_text(title)
    return page.url.rsplit("/", 1)[1]


def test_waiting_room_admit_and_deny(chromium: Browser, sqlite_node: Node) -> None:
    teacher = person(chromium, sqlite_node, "Lee Teacher", "instructor")
    eve = person(chromium, sqlite_node, "Eve Waiting")
    fay = person(chromium, sqlite_node, "Fay Waiting")
    try:
        room = start_room(teacher, "Office hours", lobby=True)
        log_in(eve, f"/rooms/{room}")
        expect(eve.page.get_by_test_id("lobby-waiting")).to_be_visible()
        shot(eve.page, "20-lobby-waiting")
        side_tab(teacher.page, "People")
        teacher.page.get_by_role("button", name="Admit Eve Waiting").click()
        expect(eve.page.locator(".room-title")).to_have_text("Office hours")

        log_in(fay, f"/rooms/{room}")
        expect(fay.page.get_by_test_id("lobby-waiting")).to_be_visible()
        shot(teacher.page, "20-lobby-host")
        teacher.page.get_by_role("button", name="Deny Fay Waiting").click()
        expect(fay.page.get_by_test_id("closed-reason")).to_have_text("A host did not let you in.")
        for someone in (teacher, eve, fay):
            assert not someone.errors, someone.errors
    finally:
        for someone in (teacher, eve, fay):
            someone.close()


def test_breakout_rooms_join_broadcast_and_bring_back(chromium: Browser, sqlite_node: Node) -> None:
    teacher = person(chromium, sqlite_node, "Mia Teacher", "instructor")
    gus = person(chromium, sqlite_node, "Gus Student")
    try:
        room = start_room(teacher, "Group work")
        log_in(gus, f"/rooms/{room}")
        expect(gus.page.locator(".room-title")).to_have_text("Group work")

        side_tab(teacher.page, "Breakouts")
        teacher.page.get_by_label("Number of rooms").fill("1")
        teacher.page.get_by_role("button", name="Create breakout rooms").click()
        rooms = teacher.page.get_by_role("list", name="Breakout rooms")
        expect(rooms).to_contain_text("Gus Student")
        teacher.page.get_by_label("Minutes").fill("15")
        teacher.page.get_by_role("button", name="Open breakout rooms").click()
        shot(teacher.page, "21-breakouts-host")

        notice = gus.page.get_by_test_id("breakout-notice")
        expect(notice).to_contain_text("Room 1")
        notice.get_by_role("button", name="Join Room 1").click()
        expect(gus.page.locator(".chips")).to_contain_text("Breakout room")
        send_chat(gus.page, "Hello from the breakout")
        shot(gus.page, "21-breakout-room")

        teacher.page.get_by_label("Message to every room").fill("Two minutes left")
        teacher.page.get_by_role("button", name="Broadcast").click()
        expect(gus.page.get_by_test_id("broadcast")).to_contain_text("Two minutes left")

        teacher.page.get_by_role("button", name="Close rooms and bring everyone back").click()
        # Back in the main room, where the breakout chat is not.
        expect(gus.page.locator(".chips")).not_to_contain_text("Breakout room")
        expect(gus.page.locator(".room-title")).to_have_text("Group work")
        expect(gus.page).to_have_url(f"{sqlite_node.url}/rooms/{room}")
        expect(chat_message(gus.page, "Hello from the breakout")).to_have_count(0)
        assert not teacher.errors and not gus.errors, (teacher.errors, gus.errors)
    finally:
        teacher.close()
        gus.close()


def test_phone_sized_screen_with_the_keyboard_and_end_for_all(
    chromium: Browser, sqlite_node: Node
) -> None:
    teacher = person(chromium, sqlite_node, "Kim Teacher", "instructor")
    phone = person(
        chromium,
        sqlite_node,
        "Pat Phone",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    try:
        room = start_room(teacher, "Small screens")
        log_in(phone, f"/rooms/{room}")
        page = phone.page
        expect(page.locator(".room-title")).to_have_text("Small screens")
        # Nothing is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "22-phone-room")

        # Keyboard only: Alt+C opens the chat with the cursor in the message box.
        side_tab(page, "People")
        page.keyboard.press("Alt+c")
        expect(page.get_by_role("textbox", name="Chat message", exact=True)).to_be_focused()
        page.keyboard.type("Typed on a phone")
        page.keyboard.press("Enter")
        side_tab(teacher.page, "Chat")
        expect(chat_message(teacher.page, "Typed on a phone")).to_be_visible()
        page.keyboard.press("Alt+h")
        side_tab(teacher.page, "People")
        expect(teacher.page.locator("ol.hand-queue li")).to_have_count(1)
        shot(page, "22-phone-chat")

        side_tab(teacher.page, "Host")
        teacher.page.get_by_role("button", name="End class for everyone").click()
        teacher.page.get_by_role("dialog", name="End the class for everyone?").get_by_role(
            "button", name="End for all"
        ).click()
        for someone in (teacher, phone):
            expect(someone.page.get_by_role("heading", name="The class has ended")).to_be_visible()
        shot(page, "22-class-ended")

        # The host's records: attendance on its own page, as a table and as CSV.
        teacher.page.get_by_role("link", name="Attendance").click()
        expect(
            teacher.page.get_by_role("heading", name="Attendance: Small screens")
        ).to_be_visible()
        rows = teacher.page.locator("table.table tbody tr")
        expect(rows.filter(has_text="Pat Phone")).to_have_count(1)
        expect(rows.filter(has_text="Kim Teacher")).to_have_count(1)
        shot(teacher.page, "23-attendance")
        with teacher.page.expect_download() as csv:
            teacher.page.get_by_role("button", name="Download attendance CSV").click()
        text = csv.value.path().read_text()
        assert text.startswith("user_id,name,role,joined_at,left_at,seconds")
        assert "Pat Phone" in text
        assert not teacher.errors and not phone.errors, (teacher.errors, phone.errors)
    finally:
        teacher.close()
        phone.close()
