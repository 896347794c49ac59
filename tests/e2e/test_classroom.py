"""A live class in real Chromium: an instructor and two students, each in their own browser.

The tests run in file order against one room: join by link, chat, hands, a poll, the
whiteboard and the notes, a student going offline and catching up, a locked whiteboard
refusing a student's stroke, and finally removing a student and locking the room.
Every wait is one of Playwright's auto-waiting expectations; nothing is timed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browserkit import (
    Person,
    board,
    chat_message,
    click_on_board,
    drag_on_board,
    launch_browser,
    log_in,
    new_person,
    room_id_of,
    send_chat,
    shot,
    side_tab,
    stage_tab,
)
from playwright.sync_api import Browser, expect

from kits.nodes import Node

_ids = itertools.count()


@dataclass
class Class:
    url: str
    room_id: str
    teacher: Person
    bea: Person
    cal: Person

    @property
    def everyone(self) -> tuple[Person, Person, Person]:
        return (self.teacher, self.bea, self.cal)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def klass(chromium: Browser, sqlite_node: Node) -> Iterator[Class]:
    """The instructor starts a room from the home page; both students open its link."""
    teacher = new_person(chromium, sqlite_node, "Ada Teacher", "instructor")
    bea = new_person(chromium, sqlite_node, "Bea Student")
    cal = new_person(chromium, sqlite_node, "Cal Student")
    log_in(teacher)
    page = teacher.page
    expect(page.get_by_role("heading", name="Welcome, Ada Teacher")).to_be_visible()
    shot(page, "01-home-instructor")
    page.get_by_label("Class title").fill("Fractions 101")
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".room-title")).to_have_text("Fractions 101")
    room_id = room_id_of(page)
    link = f"/rooms/{room_id}"
    for student in (bea, cal):
        log_in(student, link)  # the link sends them to log in, then back to the room
        expect(student.page.locator(".room-title")).to_have_text("Fractions 101")
    found = Class(sqlite_node.url, room_id, teacher, bea, cal)
    yield found
    for person in found.everyone:
        assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
        person.close()


def test_everyone_joins_by_link(klass: Class) -> None:
    page = klass.teacher.page
    side_tab(page, "People")
    people = page.get_by_role("region", name="Participants")
    for name in ("Ada Teacher (you)", "Bea Student", "Cal Student"):
        expect(people.get_by_text(name, exact=True)).to_be_visible()
    expect(people.locator("li.person")).to_have_count(3)
    expect(page.locator(".tiles .tile")).to_have_count(3)
    shot(page, "02-room-instructor-people")
    expect(klass.bea.page.locator(".chips")).to_contain_text("participant")
    shot(klass.bea.page, "02-room-student")


def test_chat_both_ways_and_privately(klass: Class) -> None:
    teacher, bea, cal = klass.everyone
    for person in klass.everyone:
        side_tab(person.page, "Chat")
    send_chat(bea.page, "Hello from Bea")
    for person in klass.everyone:
        expect(chat_message(person.page, "Hello from Bea")).to_be_visible()
    send_chat(teacher.page, "Welcome, everyone")
    for person in (bea, cal):
        expect(chat_message(person.page, "Welcome, everyone")).to_be_visible()

    # Bea writes to the teacher privately; Cal, on another tab, gets an unread count for
    # the public message that follows, but never sees the private one.
    side_tab(cal.page, "People")
    send_chat(bea.page, "A private question", to="Ada Teacher (privately)")
    private = chat_message(teacher.page, "A private question")
    expect(private).to_be_visible()
    expect(private.locator(".private-badge")).to_have_text("privately to you")
    expect(chat_message(bea.page, "A private question").locator(".private-badge")).to_have_text(
        "privately to Ada Teacher"
    )
    send_chat(teacher.page, "Public answer for all")
    expect(cal.page.get_by_test_id("unread")).to_have_text("1")
    side_tab(cal.page, "Chat")
    expect(chat_message(cal.page, "Public answer for all")).to_be_visible()
    expect(cal.page.get_by_test_id("unread")).to_have_count(0)
    expect(chat_message(cal.page, "A private question")).to_have_count(0)

    # The teacher replies privately from the message; edits; Bea reacts.
    chat_message(teacher.page, "A private question").get_by_role(
        "button", name="Reply privately"
    ).click()
    expect(teacher.page.get_by_label("Send to")).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    send_chat(teacher.page, "Answered privately")
    expect(chat_message(bea.page, "Answered privately")).to_be_visible()
    teacher.page.get_by_label("Send to").select_option(label="Everyone")
    mine = chat_message(teacher.page, "Welcome, everyone")
    mine.get_by_role("button", name="Edit").click()
    teacher.page.get_by_label("Edited message").fill("Welcome, everyone!")
    teacher.page.get_by_role("button", name="Save").click()
    expect(chat_message(bea.page, "Welcome, everyone!")).to_contain_text("(edited)")
    message = chat_message(bea.page, "Welcome, everyone!")
    message.get_by_label("Add a reaction").click()
    message.get_by_role("button", name="React 👍").click()
    expect(chat_message(teacher.page, "Welcome, everyone!").locator(".reaction")).to_have_text(
        "👍 1"
    )
    expect(chat_message(cal.page, "Answered privately")).to_have_count(0)
    shot(teacher.page, "03-chat-instructor")
    shot(cal.page, "03-chat-other-student")


def test_raised_hands_queue_and_instructor_lowers(klass: Class) -> None:
    teacher, bea, cal = klass.everyone
    bea.page.get_by_role("button", name="Raise hand").click()
    expect(bea.page.get_by_role("button", name="Lower hand")).to_be_visible()
    cal.page.locator("body").press("Alt+h")  # the keyboard shortcut
    expect(cal.page.get_by_role("button", name="Lower hand")).to_be_visible()
    side_tab(teacher.page, "People")
    queue = teacher.page.locator("ol.hand-queue li")
    expect(queue).to_have_count(2)
    expect(queue.nth(0)).to_contain_text("Bea Student")
    expect(queue.nth(1)).to_contain_text("Cal Student")
    shot(teacher.page, "04-hands-queue")
    teacher.page.get_by_role("button", name="Lower Bea Student's hand").click()
    expect(queue).to_have_count(1)
    expect(queue.nth(0)).to_contain_text("Cal Student")
    expect(bea.page.get_by_role("button", name="Raise hand")).to_be_visible()
    teacher.page.get_by_role("button", name="Lower Cal Student's hand").click()
    expect(queue).to_have_count(0)
    expect(cal.page.get_by_role("button", name="Raise hand")).to_be_visible()


def test_poll_vote_and_results(klass: Class) -> None:
    teacher, bea, cal = klass.everyone
    side_tab(teacher.page, "Polls")
    teacher.page.get_by_label("Question", exact=True).fill("Which is larger?")
    teacher.page.get_by_label("Option 1").fill("1/2")
    teacher.page.get_by_label("Option 2").fill("1/3")
    teacher.page.get_by_role("button", name="Start poll").click()
    for student, choice in ((bea, "1/2"), (cal, "1/2")):
        side_tab(student.page, "Polls")
        poll = student.page.get_by_role("article", name="Poll: Which is larger?")
        poll.get_by_label(choice).check()
        poll.get_by_role("button", name="Vote").click()
        expect(poll.get_by_test_id("my-vote")).to_have_text(f"You voted: {choice}")
    host_poll = teacher.page.get_by_role("article", name="Poll: Which is larger?")
    expect(host_poll.get_by_test_id("poll-votes")).to_contain_text("2 votes")
    shot(teacher.page, "05-poll-live-results")
    host_poll.get_by_role("button", name="Publish results").click()
    for student in (bea, cal):
        poll = student.page.get_by_role("article", name="Poll: Which is larger?")
        expect(poll.get_by_test_id("poll-votes")).to_have_text("2 votes")
        expect(poll.locator(".result-row[data-option='0'] .result-count")).to_have_text("2 (100%)")
    shot(bea.page, "05-poll-published")


def test_whiteboard_stroke_and_sticky_note_reach_everyone(klass: Class) -> None:
    teacher, bea, cal = klass.everyone
    for person in klass.everyone:
        stage_tab(person.page, "Whiteboard")
    drag_on_board(teacher.page, [(0.2, 0.3), (0.3, 0.4), (0.4, 0.35), (0.45, 0.5)])
    for person in klass.everyone:
        expect(board(person.page).locator("[data-type='path']")).to_have_count(1)

    bea.page.get_by_role("button", name="Sticky note (S)").click()
    click_on_board(bea.page, 0.7, 0.5)
    note = bea.page.get_by_label("Sticky note text")
    note.fill("Remember the quiz")
    note.press("Escape")
    for person in klass.everyone:
        sticky = board(person.page).locator("[data-type='sticky']")
        expect(sticky).to_have_count(1)
        expect(sticky).to_contain_text("Remember the quiz")

    # Live cursors: Bea's pointer shows with her name on the others' boards.
    box = board(bea.page).bounding_box()
    assert box is not None
    bea.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
    bea.page.mouse.move(box["x"] + box["width"] * 0.52, box["y"] + box["height"] * 0.62)
    expect(board(teacher.page).locator(".remote-cursor[data-cursor='Bea Student']")).to_be_visible()

    # Undo is per person: Bea's undo removes her note, not the teacher's stroke.
    board(bea.page).focus()
    bea.page.get_by_role("button", name="Undo (Ctrl+Z)").click()
    for person in klass.everyone:
        expect(board(person.page).locator("[data-type='sticky']")).to_have_count(0)
        expect(board(person.page).locator("[data-type='path']")).to_have_count(1)
    bea.page.get_by_role("button", name="Redo (Ctrl+Shift+Z)").click()
    expect(board(cal.page).locator("[data-type='sticky']")).to_have_count(1)
    shot(teacher.page, "06-whiteboard-instructor")
    shot(cal.page, "06-whiteboard-student")

    with teacher.page.expect_download() as svg:
        teacher.page.get_by_role("button", name="Export page as SVG").click()
    exported = svg.value.path().read_text()
    assert "Remember the quiz" in exported and exported.startswith("<svg")
    with teacher.page.expect_download() as png:
        teacher.page.get_by_role("button", name="Export page as PNG").click()
    assert png.value.path().read_bytes().startswith(b"\x89PNG")


def test_whiteboard_tools_pages_and_zoom(klass: Class) -> None:
    teacher, _, cal = klass.everyone
    page = teacher.page
    theirs = board(cal.page)
    # A new page keeps the first page's drawing out of the way.
    page.get_by_role("button", name="Add a page").click()
    expect(page.get_by_role("tab", name="Page 2")).to_have_attribute("aria-selected", "true")
    expect(board(page).locator(".shape")).to_have_count(0)
    cal.page.get_by_role("tab", name="Page 2").click()
    expect(theirs.locator(".shape")).to_have_count(0)

    page.get_by_role("button", name="Color Blue").click()
    for tool, points in (
        ("Line (L)", [(0.1, 0.1), (0.3, 0.2)]),
        ("Arrow (A)", [(0.1, 0.3), (0.3, 0.4)]),
        ("Rectangle (R)", [(0.4, 0.1), (0.55, 0.3)]),
        ("Ellipse (O)", [(0.6, 0.1), (0.8, 0.3)]),
    ):
        page.get_by_role("button", name=tool).click()
        drag_on_board(page, points)
    page.get_by_role("button", name="Text (T)").click()
    click_on_board(page, 0.1, 0.7)
    page.get_by_label("Text", exact=True).fill("x = 3/4")
    page.get_by_label("Text", exact=True).press("Escape")
    for kind in ("line", "arrow", "rect", "ellipse", "text"):
        expect(theirs.locator(f"[data-type='{kind}']")).to_have_count(1)
    expect(theirs.locator("[data-type='rect'] rect")).to_have_attribute("stroke", "#2563eb")
    expect(theirs.locator("[data-type='text']")).to_have_text("x = 3/4")
    shot(cal.page, "06-whiteboard-tools")

    # Select and move the rectangle, then delete it with the keyboard.
    rect_box = theirs.locator("[data-type='rect'] rect")
    x_before = rect_box.get_attribute("x")
    page.get_by_role("button", name="Select and move (V)").click()
    drag_on_board(page, [(0.475, 0.1), (0.475, 0.5)])
    expect(rect_box).not_to_have_attribute("x", x_before or "")
    page.keyboard.press("Delete")
    expect(theirs.locator("[data-type='rect']")).to_have_count(0)

    # The eraser removes what it touches.
    page.get_by_role("button", name="Eraser (E)").click()
    drag_on_board(page, [(0.15, 0.05), (0.2, 0.15), (0.25, 0.25)])
    expect(theirs.locator("[data-type='line']")).to_have_count(0)
    expect(theirs.locator("[data-type='arrow']")).to_have_count(1)

    # Zoom changes the view only, never the others' board.
    page.get_by_role("button", name="Zoom in").click()
    expect(page.get_by_role("button", name="Reset zoom")).to_have_text("125%")
    expect(cal.page.get_by_role("button", name="Reset zoom")).to_have_text("100%")
    page.get_by_role("button", name="Reset zoom").click()
    for person in (teacher, cal):
        person.page.get_by_role("tab", name="Page 1").click()
    expect(theirs.locator("[data-type='path']")).to_have_count(1)
    page.get_by_role("button", name="Pen (P)").click()


def test_notes_typed_by_one_appear_on_the_others(klass: Class) -> None:
    teacher, bea, cal = klass.everyone
    for person in klass.everyone:
        stage_tab(person.page, "Notes")
    editor = teacher.page.get_by_label("Shared notes (Markdown)")
    editor.click()
    teacher.page.keyboard.type("# Lesson 1\nA fraction is part of a whole.\n")
    for person in (bea, cal):
        expect(person.page.get_by_label("Shared notes (Markdown)")).to_contain_text(
            "A fraction is part of a whole."
        )
    bea_editor = bea.page.get_by_label("Shared notes (Markdown)")
    bea_editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.type("Bea: 1/2 = 2/4")
    expect(editor).to_contain_text("Bea: 1/2 = 2/4")
    # Collaborators' cursors carry their names.
    expect(teacher.page.locator(".cm-ySelectionInfo", has_text="Bea Student")).to_have_count(1)
    expect(cal.page.get_by_label("Shared notes (Markdown)")).to_contain_text("Bea: 1/2 = 2/4")
    shot(cal.page, "07-notes")
    with teacher.page.expect_download() as download:
        teacher.page.get_by_role("button", name="Export notes as Markdown").click()
    text = download.value.path().read_text()
    assert text.startswith("# Lesson 1\nA fraction is part of a whole.\n")
    assert "Bea: 1/2 = 2/4" in text
    for person in klass.everyone:
        stage_tab(person.page, "Whiteboard")


def test_offline_student_catches_up_on_missed_chat(klass: Class) -> None:
    teacher, _, cal = klass.everyone
    side_tab(cal.page, "Chat")
    cal.context.set_offline(True)
    banner = cal.page.get_by_test_id("connection")
    expect(banner).to_have_attribute("data-state", "offline")
    expect(banner).to_contain_text("You are offline")
    shot(cal.page, "08-offline")
    missed = [f"Missed message {i}" for i in range(1, 4)]
    for text in missed:
        send_chat(teacher.page, text)
    cal.context.set_offline(False)
    expect(banner).to_have_attribute("data-state", re.compile("recovered|resynced"))
    for text in missed:
        expect(chat_message(cal.page, text)).to_have_count(1)
    shot(cal.page, "08-back-online")
    send_chat(cal.page, "Cal is back")
    expect(chat_message(teacher.page, "Cal is back")).to_be_visible()


def test_locked_whiteboard_refuses_a_students_stroke(klass: Class) -> None:
    teacher, bea, _ = klass.everyone
    side_tab(teacher.page, "Host")
    teacher.page.get_by_label("Lock whiteboard").check()
    badge = bea.page.get_by_test_id("whiteboard-readonly")
    expect(badge).to_contain_text("the host locked the whiteboard")
    expect(bea.page.get_by_role("button", name="Pen (P)")).to_be_disabled()
    expect(bea.page.get_by_role("button", name="Undo (Ctrl+Z)")).to_be_disabled()
    shot(bea.page, "09-whiteboard-read-only")
    before = board(teacher.page).locator(".shape").count()

    # Drawing with the mouse does nothing on a read-only board.
    drag_on_board(bea.page, [(0.1, 0.8), (0.2, 0.85), (0.3, 0.8)])
    expect(board(bea.page).locator(".shape")).to_have_count(before)

    # A write that gets past the UI (a stale or modified client) is refused by the server:
    # the student is told and their board reloads without it; nobody else ever sees it.
    bea.page.evaluate(
        """() => window.__liveclass.whiteboard().getMap('shapes')
              .set('forced-by-test', {type: 'rect', x: 10, y: 10, w: 50, h: 50, z: 999})"""
    )
    expect(bea.page.get_by_text("your change was not accepted")).to_be_visible()
    expect(board(bea.page).locator("[data-id='forced-by-test']")).to_have_count(0)
    expect(board(bea.page).locator(".shape")).to_have_count(before)
    expect(board(teacher.page).locator("[data-id='forced-by-test']")).to_have_count(0)

    # The host still draws; unlocking gives the pen back.
    drag_on_board(teacher.page, [(0.6, 0.8), (0.7, 0.85)])
    expect(board(bea.page).locator(".shape")).to_have_count(before + 1)
    teacher.page.get_by_label("Lock whiteboard").uncheck()
    expect(badge).to_have_count(0)
    expect(bea.page.get_by_role("button", name="Pen (P)")).to_be_enabled()


def test_instructor_removes_a_student_and_locks_the_room(
    klass: Class, chromium: Browser, sqlite_node: Node
) -> None:
    teacher, bea, cal = klass.everyone
    side_tab(teacher.page, "People")
    teacher.page.get_by_role("button", name="Manage Cal Student").click()
    teacher.page.get_by_role("button", name="Remove from room").click()
    teacher.page.get_by_role("dialog", name="Remove Cal Student?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(cal.page.get_by_test_id("closed-reason")).to_have_text(
        "You were removed from the room by a host."
    )
    shot(cal.page, "10-removed")
    people = teacher.page.get_by_role("region", name="Participants")
    expect(people.locator("li.person")).to_have_count(2)

    side_tab(teacher.page, "Host")
    teacher.page.get_by_label("Lock room").check()
    expect(teacher.page.get_by_test_id("locked-chip")).to_be_visible()
    expect(bea.page.get_by_test_id("locked-chip")).to_be_visible()

    newcomer = new_person(chromium, sqlite_node, "Dan Latecomer")
    try:
        log_in(newcomer, f"/rooms/{klass.room_id}")
        expect(newcomer.page.get_by_test_id("closed-reason")).to_have_text("The room is locked.")
        shot(newcomer.page, "10-locked-out")
    finally:
        newcomer.close()
    # Bea, who was in the room, is still in it and can still talk.
    send_chat(bea.page, "Still here")
    side_tab(teacher.page, "Chat")
    expect(chat_message(teacher.page, "Still here")).to_be_visible()
