"""The room with a keyboard only, and on a phone with a finger.

Keyboard: a student and a host go through the core flows pressing keys only (no clicks, no
element focusing from the test): log in, reach the chat box through the skip links, send a
message, raise a hand, turn the camera and the microphone on and off from the control bar,
the host hears the raised hand and lowers it from the people list, the student leaves.
Screen reader announcements are read from the page's live region.

Phone: a 390x844 touch screen (Chromium's touch emulation): the student joins, watches the
host's video, chats, raises a hand, and a one-finger swipe over the whiteboard scrolls the
page and draws nothing. Screenshots of the phone layout: test-artifacts/e2e/phone/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from a11ykit import PHONE, focused, no_horizontal_scroll, save_phone_shot, tab_until
from browserkit import PASSWORD, Person, chat_message, launch_browser, new_person, open_browser
from playwright.sync_api import Browser, Page, expect
from videokit import FAKE_MEDIA, MEDIA_TIMEOUT_MS, control, expect_playing, my_user_id

from kits.nodes import Node


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser(*FAKE_MEDIA)


def announced(page: Page) -> str:
    """Everything the page's polite live region has said."""
    text = page.locator("#announcer").text_content()
    return text or ""


def expect_announced(page: Page, words: str) -> None:
    expect(page.locator("#announcer")).to_contain_text(words)


def keyboard_log_in(page: Page, email: str) -> None:
    """The login page focuses the email field; Tab to the password, Enter to submit."""
    expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
    assert focused(page)["id"] == "auth-email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "auth-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log in to liveclass")).to_have_count(0)


def test_student_and_host_with_the_keyboard_only(chromium: Browser, sqlite_node: Node) -> None:
    teacher = new_person(chromium, sqlite_node, "Kay Teacher", "instructor")
    student = new_person(chromium, sqlite_node, "Lu Student")
    try:
        # The host starts a class: the form is reached with Tab, submitted with Enter.
        host = teacher.page
        host.goto("/")
        keyboard_log_in(host, teacher.email)
        tab_until(host, lambda f: f["id"] == "room-title")
        host.keyboard.type("Keyboard class")
        host.keyboard.press("Enter")
        expect(host.locator(".room-title")).to_have_text("Keyboard class")
        room = host.url

        # The student: log in; the room's title has focus (a screen reader reads it). The
        # skip links sit just before it; Alt+C goes straight to the chat box.
        page = student.page
        page.goto(room)
        keyboard_log_in(page, student.email)
        expect(page.locator(".room-title")).to_have_text("Keyboard class")
        expect(page.locator(".room-title")).to_be_focused()
        presses = tab_until(page, lambda f: f["name"] == "Skip to chat", limit=4, key="Shift+Tab")
        assert presses <= 4, presses
        page.keyboard.press("Enter")
        assert focused(page)["id"] == "chat-input"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Alt+c")
        assert focused(page)["id"] == "chat-input"
        page.keyboard.type("Hello from the keyboard")
        page.keyboard.press("Enter")
        expect(chat_message(host, "Hello from the keyboard")).to_have_count(1)
        # The host heard it once, though the host's chat tab was never opened by a click.
        expect_announced(host, "Lu Student: Hello from the keyboard")
        assert announced(host).count("Hello from the keyboard") == 1

        # Raise a hand (Alt+H); the host hears it.
        page.keyboard.press("Alt+h")
        expect(control(page, "Lower hand")).to_be_visible()
        expect_announced(page, "Your hand is raised.")
        expect_announced(host, "Lu Student raised their hand")

        # The control bar is one Tab stop (Alt+K goes there); arrows move inside it.
        page.keyboard.press("Alt+k")
        assert focused(page)["role"] == "" and "Mic" in focused(page)["name"]
        page.keyboard.press("ArrowRight")
        assert "Camera" in focused(page)["name"]
        page.keyboard.press("Enter")
        expect(control(page, "Camera on")).to_have_attribute(
            "aria-pressed", "true", timeout=MEDIA_TIMEOUT_MS
        )
        page.keyboard.press("Space")
        expect(control(page, "Camera off")).to_have_attribute("aria-pressed", "false")
        page.keyboard.press("ArrowLeft")
        assert "Mic" in focused(page)["name"]
        page.keyboard.press("Enter")
        expect(control(page, "Mic on")).to_have_attribute(
            "aria-pressed", "true", timeout=MEDIA_TIMEOUT_MS
        )
        page.keyboard.press("Alt+m")
        expect(control(page, "Mic off")).to_have_attribute("aria-pressed", "false")
        # Tab leaves the toolbar in one press (no trip through every button).
        page.keyboard.press("Tab")
        assert focused(page)["name"] not in ("Camera off", "Raise hand", "Lower hand")

        # The host: Alt+P shows the people, Tab reaches the hand queue's button, Enter.
        host.keyboard.press("Alt+p")
        assert focused(host)["role"] == "tab" and focused(host)["name"].startswith("People")
        tab_until(host, lambda f: f["name"] == "Lower Lu Student's hand", limit=15)
        host.keyboard.press("Enter")
        expect(control(page, "Raise hand")).to_be_visible()
        expect_announced(page, "A host lowered your hand.")

        # The help dialog: "?" opens it, Escape closes it and focus goes back.
        before = focused(page)
        assert before["id"] != "chat-input"
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        expect(page.get_by_role("dialog")).to_contain_text("Alt+H")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        # A closed dialog leaves the accessibility tree before its close handler removes it
        # and gives focus back: wait for the element itself to go.
        page.wait_for_function("() => document.querySelector('dialog') === null")
        after = focused(page)
        if before["tag"] == "body":  # a body's "name" is the page's text, which lives on
            after["name"] = before["name"]
        assert after == before

        # Leave (Alt+L asks first; Tab to "Leave", Enter).
        page.keyboard.press("Alt+l")
        dialog = page.get_by_role("dialog", name="Leave the class?")
        expect(dialog).to_be_visible()
        tab_until(page, lambda f: f["name"] == "Leave", limit=3)
        page.keyboard.press("Enter")
        expect(page.locator(".room-title")).to_have_count(0)
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
        expect_announced(host, "Lu Student left the class.")
        for person in (teacher, student):
            assert not person.errors, person.errors
    finally:
        teacher.close()
        student.close()


def swipe(page: Page, x: float, y: float, dy: float, steps: int = 8) -> None:
    """One finger down at (x, y), moved up by ``dy`` CSS px, lifted (real touch events)."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, at_y: float) -> None:
        points: list[dict[str, Any]] = [] if kind == "touchEnd" else [{"x": x, "y": at_y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", y)
    for step in range(1, steps + 1):
        touch("touchMove", y - dy * step / steps)
    touch("touchEnd", y - dy)
    cdp.detach()


def shapes(page: Page) -> int:
    count = page.locator("svg.board-svg g.shape").count()
    return count


def test_a_student_on_a_phone(chromium: Browser, sqlite_node: Node) -> None:
    teacher = new_person(chromium, sqlite_node, "Mo Teacher", "instructor")
    email = f"ny-phone-{id(teacher)}@example.org"
    with sqlite_node.client() as client:
        made = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Ny Student"},
        )
        assert made.status_code == 201, made.text
    student: Person = open_browser(
        chromium,
        sqlite_node.url,
        "Ny Student",
        email,
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    try:
        host = teacher.page
        host.goto("/")
        host.get_by_label("Email").fill(teacher.email)
        host.get_by_label("Password").fill(PASSWORD)
        host.get_by_role("button", name="Log in").click()
        host.get_by_label("Class title").fill("Phone class")
        host.get_by_role("button", name="Create room").click()
        expect(host.locator(".room-title")).to_have_text("Phone class")
        control(host, "Camera off").click()
        room = host.url

        page = student.page
        page.goto(room)
        page.get_by_label("Email").tap()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").tap()
        expect(page.locator(".room-title")).to_have_text("Phone class")
        # Watch: the host's video plays on the phone.
        expect_playing(page, my_user_id(host))
        assert no_horizontal_scroll(page)
        save_phone_shot(page, "01-joined")

        # Chat: the side panel's Chat tab, the box, Send.
        page.get_by_role("tab", name=re.compile("^Chat")).tap()
        box = page.get_by_role("textbox", name="Chat message", exact=True)
        box.tap()
        box.fill("Hi from my phone")
        page.get_by_role("button", name="Send").tap()
        expect(chat_message(host, "Hi from my phone")).to_have_count(1)
        save_phone_shot(page, "02-chat")

        # Raise a hand from the control bar at the bottom of the screen.
        control(page, "Raise hand").tap()
        expect(control(page, "Lower hand")).to_be_visible()
        expect(host.get_by_test_id("hands")).to_contain_text("Ny Student")
        assert no_horizontal_scroll(page)
        save_phone_shot(page, "03-hand-raised")

        # Scroll past the whiteboard: a one-finger swipe over it scrolls the page and draws
        # nothing (the board's touch mode is "scroll" unless drawing is chosen).
        page.evaluate("window.scrollTo(0, 0)")
        board = page.locator("svg.board-svg")
        board.scroll_into_view_if_needed()
        before_scroll = page.evaluate("window.scrollY")
        before_shapes = shapes(page)
        box_ = board.bounding_box()
        assert box_ is not None
        x = box_["x"] + box_["width"] / 2
        y = min(box_["y"] + box_["height"] * 0.8, PHONE["height"] - 120)
        swipe(page, x, y, dy=300)
        page.wait_for_function("(y) => window.scrollY > y", arg=before_scroll)
        assert shapes(page) == before_shapes
        save_phone_shot(page, "04-scrolled-past-the-board")
        assert not student.errors, student.errors
        assert not teacher.errors, teacher.errors
    finally:
        teacher.close()
        student.close()
