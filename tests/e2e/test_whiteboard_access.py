"""The whiteboard without a pointer and on a phone (issue 22), in real Chromium.

A teacher works the board from the keyboard only: a rectangle, a text and a sticky note
added at the keyboard cursor, one moved with the arrow keys, a text edited in the outline,
one deleted; a student in another browser sees each change. axe-core (WCAG 2.1 A and AA
rules) finds nothing on the whiteboard at desktop and phone sizes, with shapes, a selection,
the outline and the keys help open. On a 390 px phone with touch, a one-finger swipe over
the board scrolls the page and adds nothing (the teacher sees no new shape) until the
student chooses to draw with a finger; then the same swipe draws. Nothing is timed: every
wait is one of Playwright's expectations.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from a11ykit import axe_violations
from browserkit import (
    Person,
    board,
    launch_browser,
    log_in,
    new_person,
    open_browser,
    room_id_of,
    shot,
)
from playwright.sync_api import Browser, Page, expect

from kits.nodes import Node

RED_DOT = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Board:
    room_id: str
    teacher: Person
    student: Person


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def room(chromium: Browser, sqlite_node: Node) -> Iterator[Board]:
    teacher = new_person(chromium, sqlite_node, "Ada Teacher", "instructor")
    student = new_person(chromium, sqlite_node, "Bea Student")
    log_in(teacher)
    page = teacher.page
    page.get_by_label("Class title").fill("Shapes and words")
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".room-title")).to_have_text("Shapes and words")
    room_id = room_id_of(page)
    log_in(student, f"/rooms/{room_id}")
    expect(student.page.locator(".room-title")).to_have_text("Shapes and words")
    student.page.get_by_role("tab", name="Whiteboard", exact=True).click()
    found = Board(room_id, teacher, student)
    yield found
    for person in (teacher, student):
        assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
        person.close()


# ------------------------------------------------------------------ helpers


def focused(page: Page) -> dict[str, str]:
    info = page.evaluate(
        """() => {
            const el = document.activeElement
            if (!el) return {}
            return {tag: el.tagName.toLowerCase(), role: el.getAttribute('role') || '',
                    name: (el.getAttribute('aria-label') || el.textContent || '').trim()}
        }"""
    )
    assert isinstance(info, dict)
    return {str(k): str(v) for k, v in info.items()}


def tab_to(page: Page, name: str | re.Pattern[str], key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or ``key``) until the focused element's name is ``name`` (or matches it)."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page).get("name", "")
        if name.search(now) if isinstance(name, re.Pattern) else now == name:
            return
    raise AssertionError(f"{name!r} not reached with {key}; focus is on {focused(page)}")


def keys(page: Page, *presses: str) -> None:
    for press in presses:
        page.keyboard.press(press)


def announced(page: Page) -> Any:
    return page.get_by_test_id("whiteboard-announce")


def expect_no_violations(page: Page, state: str) -> None:
    found = axe_violations(page, within="section.board")  # the room: test_accessibility.py
    assert not found, (
        f"axe: {len(found)} violation(s) on the whiteboard, {state}:\n"
        + json.dumps(found, indent=1)[:6000]
    )


SCROLLED = """() => {
    let total = window.scrollY
    let el = document.querySelector('svg.board-svg')
    for (; el; el = el.parentElement) total += el.scrollTop || 0
    return total
}"""
"""How far the page and every box around the board have scrolled, added up."""


def scrolled(page: Page) -> float:
    return float(page.evaluate(SCROLLED))


def swipe(page: Page, x: float, y0: float, y1: float) -> None:
    """One finger from (x, y0) to (x, y1), as a touch screen sends it."""
    cdp = page.context.new_cdp_session(page)
    steps = 12
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y0}]})
    for i in range(1, steps + 1):
        y = y0 + (y1 - y0) * i / steps
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


# ------------------------------------------------------------------ the story


def test_keyboard_only_create_move_edit_delete(room: Board) -> None:
    page = room.teacher.page
    theirs = board(room.student.page)
    page.keyboard.press("Alt+w")  # the room's shortcut: show the whiteboard
    tab_to(page, "Whiteboard canvas")

    # A rectangle at the keyboard cursor.
    keys(page, "r", "Enter")
    expect(theirs.locator("[data-type='rect']")).to_have_count(1)
    expect(announced(page)).to_contain_text("Added Rectangle")

    # A text, a little to the right (Escape lets go of the new rectangle first).
    keys(
        page,
        "Escape",
        "ArrowDown",
        "ArrowDown",
        "ArrowDown",
        "ArrowDown",
        "ArrowDown",
        "ArrowDown",
        "t",
        "Enter",
    )
    editor = page.get_by_role("textbox", name="Text", exact=True)
    expect(editor).to_be_focused()
    page.keyboard.type("Hello board")
    page.keyboard.press("Escape")
    expect(theirs.locator("[data-type='text']")).to_have_text("Hello board")
    expect(page.get_by_role("application", name="Whiteboard canvas")).to_be_focused()

    # A sticky note further down.
    keys(page, "Escape", "Shift+ArrowDown", "Shift+ArrowDown", "s", "Enter")
    note = page.get_by_role("textbox", name="Sticky note text")
    expect(note).to_be_focused()
    page.keyboard.type("Quiz on Friday")
    page.keyboard.press("Escape")
    expect(theirs.locator("[data-type='sticky']")).to_contain_text("Quiz on Friday")
    shot(page, "whiteboard-keyboard-shapes")

    # N walks the shapes in painting order: the rectangle first; arrows move it.
    rect = theirs.locator("[data-type='rect'] rect")
    x_before = float(rect.get_attribute("x") or "nan")
    keys(page, "Escape", "v", "n")
    expect(announced(page)).to_contain_text("Selected: Rectangle")
    keys(page, "ArrowRight", "ArrowRight", "Shift+ArrowRight")
    expect(rect).to_have_attribute("x", re.compile(rf"^{x_before + 28:g}$"))

    # The outline (the toolbar is one Tab stop: End, then left to "Outline").
    tab_to(
        page,
        re.compile(r"^Whiteboard tools|^Select and move|^Pen|^Rectangle|^Text|^Sticky"),
        key="Shift+Tab",
    )
    keys(page, "End")
    assert focused(page)["name"] == "Keys", focused(page)
    keys(page, "ArrowLeft")
    assert focused(page)["name"] == "Outline", focused(page)
    page.keyboard.press("Enter")
    outline = page.get_by_role("list", name=re.compile("^Shapes on Page 1"))
    expect(outline.get_by_role("listitem")).to_have_count(3)
    expect(outline.get_by_role("button", name=re.compile("^Rectangle"))).to_have_attribute(
        "aria-pressed", "true"
    )
    tab_to(page, re.compile(r"^Text of text at "))
    keys(page, "Control+a")
    page.keyboard.type("Hello outline")
    expect(theirs.locator("[data-type='text']")).to_have_text("Hello outline")

    # Delete the sticky note from the outline.
    tab_to(page, "Delete Sticky note: Quiz on Friday")
    page.keyboard.press("Enter")
    expect(theirs.locator("[data-type='sticky']")).to_have_count(0)
    expect(outline.get_by_role("listitem")).to_have_count(2)
    # And the rectangle with the Delete key on the board.
    tab_to(page, "Whiteboard canvas", key="Shift+Tab")
    keys(page, "Escape", "n", "Delete")
    expect(theirs.locator("[data-type='rect']")).to_have_count(0)
    expect(announced(page)).to_contain_text("Deleted 1 shape")
    expect(outline.get_by_role("listitem")).to_have_count(1)
    expect(theirs.locator(".shape")).to_have_count(1)
    shot(page, "whiteboard-keyboard-outline")


def test_outline_follows_the_others_edits(room: Board) -> None:
    page = room.teacher.page
    outline = page.get_by_role("list", name=re.compile("^Shapes on Page 1"))
    kept = outline.get_by_role("listitem").first
    kept.evaluate("(el) => { el.dataset.kept = 'yes' }")
    # The student adds a sticky note with the mouse; the teacher's list gains one item and
    # keeps the item it had (changed items are updated, the list is never redrawn whole).
    student = room.student.page
    student.get_by_role("button", name="Sticky note (S)").click()
    box = board(student).bounding_box()
    assert box is not None
    student.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    student.get_by_label("Sticky note text").fill("From Bea")
    student.get_by_label("Sticky note text").press("Escape")
    expect(outline.get_by_role("listitem")).to_have_count(2)
    expect(outline.get_by_role("button", name=re.compile("^Sticky note: From Bea"))).to_be_visible()
    expect(outline.locator("li[data-kept='yes']")).to_have_count(1)


def test_an_image_is_added_with_its_description(room: Board) -> None:
    page = room.teacher.page
    theirs = board(room.student.page)
    # File choosers are intercepted from here on, well before the key that opens one: when
    # interception began with expect_file_chooser itself, Chromium sometimes got the key
    # first and cancelled the (headless) dialog, about 1 run in 8 on a loaded machine.
    page.on("filechooser", lambda _: None)
    canvas = page.get_by_role("application", name="Whiteboard canvas")
    canvas.focus()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("i")
    chooser.value.set_files(files=[{"name": "dot.png", "mimeType": "image/png", "buffer": RED_DOT}])
    dialog = page.get_by_role("dialog", name="Describe the image")
    dialog.get_by_label("Description (alt text)").fill("A red dot marks the answer")
    dialog.get_by_role("button", name="Save").click()
    expect(canvas).to_be_focused()
    image = theirs.locator("[data-type='image']")
    expect(image.locator("image")).to_have_count(1)
    expect(image.locator("title")).to_have_text("A red dot marks the answer")
    expect(theirs).to_have_attribute("aria-label", re.compile("images: A red dot marks the answer"))
    outline = page.get_by_role("list", name=re.compile("^Shapes on Page 1"))
    expect(outline.get_by_role("button", name=re.compile("^Image: A red dot"))).to_be_visible()
    # The description is edited in the outline; the others' drawing is named anew.
    alt = outline.get_by_role("textbox", name=re.compile("^Description of image"))
    alt.fill("A red dot")
    expect(image.locator("title")).to_have_text("A red dot")
    expect(theirs).to_have_attribute("aria-label", re.compile("images: A red dot$"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_finds_nothing_on_the_whiteboard(
    room: Board, chromium: Browser, sqlite_node: Node, size: str
) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    person = new_person(chromium, sqlite_node, f"Cy {size.title()}", "instructor")
    person.context.close()
    person = _reopen(chromium, sqlite_node, person, viewport, touch=size == "phone")
    try:
        page = person.page
        log_in(person, f"/rooms/{room.room_id}")
        page.get_by_role("tab", name="Whiteboard", exact=True).click()
        canvas = page.get_by_role("application", name="Whiteboard canvas")
        expect(canvas).to_be_visible()
        # A rectangle and a sticky note of this person's own (the board may hold others',
        # counted once the board has synced).
        expect(page.locator("section.board")).to_have_attribute("aria-busy", "false")
        shapes = board(page).locator(".shape")
        count = shapes.count()
        canvas.focus()
        keys(page, "r", "Enter", "Escape", "Shift+ArrowDown", "s", "Enter")
        page.keyboard.type("Checked by axe")
        keys(page, "Escape", "Escape")
        expect(shapes).to_have_count(count + 2)
        expect_no_violations(page, f"{size}, shapes drawn")
        # a selection, the outline and the keys help open, the toolbar folded out
        keys(page, "v", "n")
        expect(board(page).locator(".selection-box")).to_have_count(1)
        page.get_by_role("button", name="Outline").click()
        page.get_by_role("button", name="Keys").click()
        more = page.get_by_role("button", name="More")
        if more.is_visible():
            more.click()
        expect(page.get_by_role("list", name=re.compile("^Shapes on"))).to_be_visible()
        expect_no_violations(page, f"{size}, selection, outline, help and toolbar open")
        shot(page, f"whiteboard-axe-{size}")
        if size == "phone":
            # At 320 px the toolbar, folded out, still wraps inside the screen.
            page.set_viewport_size({"width": 320, "height": 640})
            outside = page.evaluate(
                """() => [...document.querySelectorAll('.board-toolbar :is(button, input)')]
                    .filter((el) => el.getClientRects().length)
                    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
                    .map((el) => el.getAttribute('aria-label') || el.textContent)"""
            )
            assert outside == [], outside
            shot(page, "whiteboard-toolbar-320")
        assert not person.errors, person.errors
    finally:
        person.close()


def _reopen(
    chromium: Browser, node: Node, person: Person, viewport: dict[str, int], touch: bool
) -> Person:
    options: dict[str, Any] = {"viewport": viewport}
    if touch:
        options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
    return open_browser(chromium, node.url, person.name, person.email, **options)


def test_a_swipe_scrolls_on_a_phone_and_draws_only_in_draw_mode(
    room: Board, chromium: Browser, sqlite_node: Node
) -> None:
    teacher = room.teacher.page
    before = board(teacher).locator(".shape").count()
    person = new_person(chromium, sqlite_node, "Di Phone")
    person.context.close()
    person = _reopen(chromium, sqlite_node, person, PHONE, touch=True)
    try:
        page = person.page
        log_in(person, f"/rooms/{room.room_id}")
        page.get_by_role("tab", name="Whiteboard", exact=True).click()
        svg = board(page)
        expect(svg.locator(".shape")).to_have_count(before)
        mode = page.get_by_role("button", name="Draw with finger")
        expect(mode).to_have_attribute("aria-pressed", "false")  # touch devices start scrolling
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        assert box is not None
        x = box["x"] + box["width"] * 0.5
        low = min(box["y"] + box["height"] * 0.8, PHONE["height"] - 20)
        high = max(box["y"] + box["height"] * 0.2, 20)
        start = scrolled(page)
        swipe(page, x, low, high)
        page.wait_for_function(f"() => ({SCROLLED})() > {start + 20}")
        assert scrolled(page) > start + 20
        shot(page, "whiteboard-phone-swiped")

        # Draw mode: the same swipe draws one stroke, which the teacher sees; since updates
        # arrive in order, seeing exactly one new shape shows the first swipe added none.
        mode.click()
        expect(mode).to_have_attribute("aria-pressed", "true")
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        assert box is not None
        swipe(
            page,
            box["x"] + box["width"] * 0.4,
            box["y"] + box["height"] * 0.7,
            box["y"] + box["height"] * 0.3,
        )
        expect(board(teacher).locator(".shape")).to_have_count(before + 1)
        expect(board(teacher).locator("[data-type='path']")).to_have_count(1)
        expect(svg.locator(".shape")).to_have_count(before + 1)
        shot(page, "whiteboard-phone-drawn")
        assert not person.errors, person.errors
    finally:
        person.close()
