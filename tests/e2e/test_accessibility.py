"""axe-core (WCAG 2.1 A and AA rules) on every page and every room state, at desktop
(1280x800) and phone (390x844) sizes: zero violations. The room is checked as a host and as
a student with chat messages, a raised hand, a poll, the whiteboard, the notes, the people
list, the host panel, the shortcuts dialog and video on (Chromium's fake camera).

Also here: the room reflows at 320 px without scrolling sideways, and the keyboard focus
ring is at least 3:1 against what is behind it, the dark video strip included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from a11ykit import (
    DESKTOP,
    NARROW,
    PHONE,
    ZOOMED,
    axe_violations,
    describe,
    focus_ring_contrast,
    no_horizontal_scroll,
    wider_than_viewport,
)
from browserkit import Person, launch_browser, log_in, new_person, send_chat, side_tab, stage_tab
from playwright.sync_api import Browser, Page, expect
from videokit import FAKE_MEDIA, MEDIA_TIMEOUT_MS, control, my_user_id

from kits.nodes import Node

SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser(*FAKE_MEDIA)


@dataclass
class Klass:
    teacher: Person
    student: Person
    room_id: str


@pytest.fixture(scope="module")
def klass(chromium: Browser, sqlite_node: Node) -> Iterator[Klass]:
    """A host and a student in one room with some chat, a raised hand, a poll and video."""
    teacher = new_person(chromium, sqlite_node, "Ada Teacher", "instructor")
    student = new_person(chromium, sqlite_node, "Bo Student")
    log_in(teacher)
    page = teacher.page
    page.get_by_label("Class title").fill("Accessible algebra")
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".room-title")).to_have_text("Accessible algebra")
    room_id = re.search(r"/rooms/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    log_in(student, f"/rooms/{room_id}")
    expect(student.page.locator(".room-title")).to_have_text("Accessible algebra")
    send_chat(page, "Welcome, everyone!")
    send_chat(student.page, "Hello from Bo")
    send_chat(page, "A private word", to="Bo Student (privately)")
    student.page.keyboard.press("Alt+h")
    expect(page.get_by_test_id("hands")).to_contain_text("Bo Student")
    side_tab(page, "Polls")
    page.get_by_label("Question", exact=True).fill("Which topic next?")
    page.get_by_label("Option 1", exact=True).fill("Fractions")
    page.get_by_label("Option 2", exact=True).fill("Equations")
    page.get_by_role("button", name="Start poll").click()
    expect(student.page.locator(".poll")).to_have_count(1)
    control(page, "Camera off").click()
    expect(
        student.page.locator(f'.tiles video[data-user-id="{my_user_id(page)}"]')
    ).to_have_attribute("data-state", "live", timeout=MEDIA_TIMEOUT_MS)
    yield Klass(teacher, student, room_id)
    for person in (teacher, student):
        assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
        person.close()


def check(page: Page, state: str, found: dict[str, list[dict[str, Any]]]) -> None:
    violations = axe_violations(page)
    if violations:
        found[state] = violations


def report(found: dict[str, list[dict[str, Any]]]) -> str:
    total = sum(len(v) for v in found.values())
    lines = [f"{total} axe violation(s) in {len(found)} state(s):"]
    for state, violations in found.items():
        lines.append(
            f"== {state}: " + ", ".join(f"{v['id']}({len(v['nodes'])})" for v in violations)
        )
    lines.extend(f"-- {state}\n{describe(v)}" for state, v in found.items())
    return "\n".join(lines)


@pytest.mark.parametrize("size", SIZES)
def test_pages_outside_the_room_pass_axe(
    chromium: Browser, sqlite_node: Node, klass: Klass, size: str
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    person = new_person(chromium, sqlite_node, "Cy Visitor")
    page = person.page
    page.set_viewport_size(SIZES[size])
    try:
        page.goto("/")
        expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
        check(page, "login", found)
        page.get_by_role("link", name="Create an account").click()
        expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
        check(page, "signup", found)
        page.get_by_role("link", name="Log in").click()
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_be_visible()
        check(page, "login with an error", found)
        person.close()
        person = new_person(chromium, sqlite_node, "Cy Visitor")
        page = person.page
        page.set_viewport_size(SIZES[size])
        log_in(person)
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
        check(page, "home (student)", found)
        page.evaluate(
            "() => { history.pushState(null, '', '/no/such/page');"
            " dispatchEvent(new PopStateEvent('popstate')) }"
        )
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        check(page, "not found", found)
        # The host's own pages, in a second tab (the first one stays in the room).
        teacher = klass.teacher.context.new_page()
        teacher.set_viewport_size(SIZES[size])
        teacher.goto("/")
        expect(teacher.locator(".room-item")).to_have_count(1)
        check(teacher, "home (instructor, with a room)", found)
        teacher.goto(f"/rooms/{klass.room_id}/report")
        expect(teacher.locator("table")).to_be_visible()
        check(teacher, "attendance report", found)
        teacher.close()
    finally:
        person.close()
    assert not found, report(found)


@pytest.mark.parametrize("size", SIZES)
def test_room_states_pass_axe(klass: Klass, size: str) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for who, person in (("host", klass.teacher), ("student", klass.student)):
        page = person.page
        page.set_viewport_size(SIZES[size])
        expect(page.locator(".room-title")).to_have_text("Accessible algebra")
        expect(page.locator(".tiles video[data-state='live']")).to_have_count(
            1, timeout=MEDIA_TIMEOUT_MS
        )
        side_tab(page, "Chat")
        expect(page.locator(".chat-list article.msg")).to_have_count(3)
        stage_tab(page, "Whiteboard")
        check(page, f"{who}: chat, whiteboard, video on", found)
        stage_tab(page, "Notes")
        expect(page.locator(".notes .cm-content")).to_be_visible()
        check(page, f"{who}: notes", found)
        stage_tab(page, "Whiteboard")
        side_tab(page, "People")
        expect(page.get_by_test_id("hands")).to_contain_text("Bo Student")
        check(page, f"{who}: people", found)
        side_tab(page, "Polls")
        expect(page.locator(".poll")).to_have_count(1)
        check(page, f"{who}: polls", found)
        side_tab(page, "Quizzes")
        check(page, f"{who}: quizzes", found)
        side_tab(page, "Breakouts")
        check(page, f"{who}: breakouts", found)
        if who == "host":
            side_tab(page, "Host")
            check(page, f"{who}: host controls", found)
            side_tab(page, "People")
            page.get_by_role("button", name="Manage Bo Student").click()
            expect(page.get_by_role("dialog")).to_be_visible()
            check(page, f"{who}: manage dialog", found)
            page.keyboard.press("Escape")
        page.locator(".chat-list, body").first.focus()
        page.keyboard.press("Escape")
        page.get_by_role("button", name=re.compile("Keyboard shortcuts")).first.click()
        expect(page.get_by_role("dialog")).to_be_visible()
        check(page, f"{who}: shortcuts dialog", found)
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        side_tab(page, "Chat")
    assert not found, report(found)


@pytest.mark.parametrize("size", ["320 px", "200% zoom"])
def test_the_room_reflows_at_320_px_and_at_200_percent_zoom(klass: Klass, size: str) -> None:
    """No sideways scrolling at 320 CSS px (WCAG 1.4.10) nor in a 1280 x 800 window zoomed
    to 200% (640 x 400 CSS px, WCAG 1.4.4), in every side panel; the controls stay on
    screen."""
    viewport = NARROW if size == "320 px" else ZOOMED
    for person in (klass.teacher, klass.student):
        page = person.page
        page.set_viewport_size(viewport)
        for tab in ("Chat", "People", "Polls", "Quizzes", "Breakouts"):
            side_tab(page, tab)
            assert no_horizontal_scroll(page), f"{person.name}, {tab}: {wider_than_viewport(page)}"
        raise_hand = page.get_by_role("button", name=re.compile("^(Raise|Lower) hand"))
        raise_hand.scroll_into_view_if_needed()
        expect(raise_hand).to_be_in_viewport()
        side_tab(page, "Chat")
        page.set_viewport_size(DESKTOP)


def test_the_focus_ring_is_visible_everywhere(klass: Klass) -> None:
    """Every Tab stop shows an outline of at least 3:1 against its background."""
    page = klass.teacher.page
    page.set_viewport_size(DESKTOP)
    page.locator("body").click(position={"x": 1, "y": 1})
    weak: list[str] = []
    seen = 0
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => document.activeElement && document.activeElement.outerHTML.slice(0, 80)"
        )
        if page.evaluate("() => document.activeElement === document.body"):
            continue
        seen += 1
        ratio = focus_ring_contrast(page)
        if ratio < 3:
            weak.append(f"{ratio:.2f}: {info}")
    # The dark video strip: a host's tile buttons sit on it.
    tile_button = page.locator(".tiles button").first
    if tile_button.count():
        tile_button.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        ratio = focus_ring_contrast(page)
        if ratio < 3:
            weak.append(f"{ratio:.2f}: video strip button")
    assert seen > 5
    assert not weak, "\n".join(weak)
