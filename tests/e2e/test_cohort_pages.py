"""Cohorts in real Chromium: an instructor creates a paced cohort on the cohorts page, a
learner on a 390 px phone joins with its code and sees week 2 locked with its opening
date, the instructor posts an announcement the learner reads, and the dashboard shows the
learner falling behind (sortable with the keyboard, exported as CSV). axe-core finds
nothing on the pages, at desktop width and on the phone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, create_account, launch_browser, log_in, new_person
from playwright.sync_api import Browser, ViewportSize, expect

from kits.nodes import Node

PHONE: ViewportSize = {"width": 390, "height": 800}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Setup:
    node: Node
    course_id: str
    teacher: Person
    learner: Person


def _call(node: Node, email: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(node.login(email)) as client:
        response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def setup(chromium: Browser, sqlite_node: Node) -> Iterator[Setup]:
    teacher = new_person(chromium, sqlite_node, "Fay Facilitator", "instructor")
    learner = new_person(chromium, sqlite_node, "Leo Learner")
    course = _call(
        sqlite_node,
        teacher.email,
        "POST",
        "/api/v1/courses",
        json={"code": f"K-{uuid.uuid4().hex[:6]}", "title": "Statistics"},
    )
    for week in (1, 2, 3):
        module = _call(
            sqlite_node,
            teacher.email,
            "POST",
            f"/api/v1/courses/{course['id']}/modules",
            json={"title": f"Week {week}", "published": True},
        )
        _call(
            sqlite_node,
            teacher.email,
            "POST",
            f"/api/v1/modules/{module['id']}/items",
            json={
                "kind": "link",
                "title": f"Reading {week}",
                "url": "https://example.org/",
                "published": True,
            },
        )
    learner.page.set_viewport_size(PHONE)
    yield Setup(sqlite_node, course["id"], teacher, learner)
    for person in (teacher, learner):
        assert not person.errors, person.errors
        person.close()


def test_paced_cohort_from_creation_to_the_dashboard(setup: Setup) -> None:
    page = setup.teacher.page
    log_in(setup.teacher, f"/courses/{setup.course_id}/cohorts")
    expect(page.get_by_role("heading", name="Cohorts: Statistics")).to_be_visible()
    expect(page.get_by_text("No cohorts yet.")).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("heading", name="Create a cohort"))
    start = datetime.now(UTC).date() - timedelta(days=1)
    form.get_by_label("Name").fill("Evening cohort")
    form.get_by_label("Time zone (IANA, e.g. Europe/Berlin)").fill("UTC")
    form.get_by_label("Start date").fill(start.isoformat())
    form.get_by_label("End date").fill((start + timedelta(days=60)).isoformat())
    for week, days in (("Week 1", "0"), ("Week 2", "7"), ("Week 3", "14")):
        form.get_by_label(f"{week}: days after start").fill(days)
    expect_no_violations(page, "the cohorts page with the create form")
    form.get_by_role("button", name="Create a cohort").click()
    expect(page.get_by_role("heading", name="Evening cohort", level=1)).to_be_visible()
    expect(page.get_by_test_id("schedule-row")).to_have_count(3)
    code = page.get_by_test_id("join-code").inner_text()
    assert len(code) == 10
    expect_no_violations(page, "the cohort page for its instructor")
    cohort_url = page.url
    # A CSV import: a preview with its problems, nothing applied; then the fixed file.
    other = f"csv-{uuid.uuid4().hex[:8]}@example.org"
    create_account(setup.node.url, "Cy Csv", other)
    picker = page.get_by_label("Add learners from a CSV file")
    bad = f"email\n{other}\nnobody@example.invalid\n".encode()
    picker.set_input_files({"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    preview = page.get_by_test_id("cohort-import-preview")
    expect(preview).to_contain_text("Row 3: No active account has the address")
    expect(preview.get_by_role("button", name="Apply the import")).to_be_disabled()
    good = f"email\n{other}\n".encode()
    picker.set_input_files({"name": "good.csv", "mimeType": "text/csv", "buffer": good})
    expect(preview).to_contain_text("The file adds 1 learner.")
    preview.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_test_id("members")).to_contain_text("Cy Csv")

    # The learner joins with the code on a phone and finds week 2 locked with its date.
    phone = setup.learner.page
    log_in(setup.learner, "/cohorts/join")
    phone.get_by_label("Join code").fill("WRONGCODE1")
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_test_id("form-errors")).to_contain_text("No cohort has this code.")
    phone.get_by_label("Join code").fill(code.lower())
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_test_id("my-membership")).to_have_text("You are in this cohort.")
    expect_no_violations(phone, "the cohort page for a learner on a phone")
    assert no_horizontal_scroll(phone)
    phone.goto(f"/courses/{setup.course_id}")
    week2 = phone.locator("section.module").filter(has_text="Week 2")
    expect(week2.get_by_test_id("lock-reason")).to_contain_text("Locked: opens")
    opens = start + timedelta(days=7)
    expect(week2.get_by_test_id("lock-reason")).to_contain_text(str(opens.day))
    expect(
        phone.locator("section.module").filter(has_text="Week 1").get_by_test_id("lock-reason")
    ).to_have_count(0)

    # The facilitator posts an announcement; the learner reads it on the cohort page.
    page.goto(cohort_url)
    post = page.locator("section").filter(has=page.get_by_role("heading", name="Announcements"))
    post.get_by_label("Title").fill("Welcome")
    post.get_by_label("Message").fill("Start with Reading 1.")
    post.get_by_role("button", name="Post the announcement").click()
    expect(page.get_by_test_id("announcement")).to_contain_text("Welcome")
    phone.goto(cohort_url)
    expect(phone.get_by_test_id("announcement")).to_contain_text("Start with Reading 1.")

    # The dashboard shows the learner behind the pace; headers sort from the keyboard.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard: Evening cohort")).to_be_visible()
    row = page.get_by_test_id("dashboard").locator("tr", has_text="Leo Learner")
    expect(row.get_by_test_id("learner-status")).to_contain_text("Behind (below pace)")
    expect(page.get_by_test_id("behind-count")).to_have_text("2 learners are falling behind.")
    progress = page.get_by_role("button", name="Progress")
    progress.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name="Progress")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page.get_by_role("button", name="Progress")).to_be_focused()
    expect_no_violations(page, "the cohort dashboard")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Leo Learner" in text and "below_pace" in text


def _cohort(setup: Setup, name: str) -> str:
    start = datetime.now(UTC).date()
    body = {
        "name": name,
        "time_zone": "UTC",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=30)).isoformat(),
    }
    path = f"/api/v1/courses/{setup.course_id}/cohorts"
    made: str = _call(setup.node, setup.teacher.email, "POST", path, json=body)["id"]
    return made


def _learner(setup: Setup, cohort_id: str, name: str) -> str:
    email = f"p-{uuid.uuid4().hex[:8]}@example.org"
    create_account(setup.node.url, name, email)
    path = f"/api/v1/cohorts/{cohort_id}/members"
    _call(setup.node, setup.teacher.email, "POST", path, json={"email": email})
    return email


def test_staff_move_remove_and_name_facilitators_from_the_cohort_page(setup: Setup) -> None:
    """From the cohort page, with the keyboard: a learner moves to another cohort (the move
    and its reason shown on their row there), another is removed after a confirmation with
    a reason (a first cancel changes nothing), a TA is named facilitator and withdrawn; each
    change is confirmed in a live status line; axe finds nothing, dialogs open included, on
    a desktop and on a phone."""
    morning, weekend = _cohort(setup, "Morning cohort"), _cohort(setup, "Weekend cohort")
    _learner(setup, morning, "Mo Mover")
    _learner(setup, morning, "Rita Removed")
    ta_email = f"ta-{uuid.uuid4().hex[:8]}@example.org"
    create_account(setup.node.url, "Tess Assistant", ta_email)
    ta = _call(
        setup.node,
        setup.teacher.email,
        "POST",
        f"/api/v1/courses/{setup.course_id}/enrollments",
        json={"email": ta_email, "role": "ta"},
    )
    page = setup.teacher.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/cohorts/{morning}")
    expect(page.get_by_role("heading", name="Morning cohort", level=1)).to_be_visible()
    members = page.get_by_test_id("members")
    expect(members.get_by_test_id("member")).to_have_count(2)

    # Move Mo to the weekend cohort, from the keyboard, with a reason.
    move = page.get_by_role("button", name="Move Mo Mover to another cohort")
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Move Mo Mover")
    expect(dialog).to_be_visible()
    dialog.get_by_label("To the cohort").select_option(label="Weekend cohort")
    dialog.get_by_label("Reason (kept in the history)").fill("Works weekdays now")
    expect_no_violations(page, "the move dialog")
    dialog.get_by_role("button", name="Move the learner").focus()
    page.keyboard.press("Enter")
    status = page.get_by_test_id("members-status")
    expect(status).to_have_text("Mo Mover moved to Weekend cohort.")
    expect(status).to_have_attribute("role", "status")
    expect(dialog).to_have_count(0)
    expect(members.get_by_test_id("member")).to_have_count(1)
    expect(members).not_to_contain_text("Mo Mover")

    # Removing asks first: cancelling keeps Rita; confirming with a reason removes her.
    page.get_by_role("button", name="Remove Rita Removed from the cohort").click()
    confirm = page.get_by_role("dialog", name="Remove Rita Removed?")
    expect(confirm).to_contain_text("they stay enrolled in the course")
    expect_no_violations(page, "the remove confirmation")
    page.keyboard.press("Escape")
    expect(confirm).to_have_count(0)
    expect(members).to_contain_text("Rita Removed")
    page.get_by_role("button", name="Remove Rita Removed from the cohort").click()
    confirm.get_by_label("Reason (kept in the audit log)").fill("Left the programme")
    confirm.get_by_role("button", name="Remove the learner").click()
    expect(status).to_have_text("Rita Removed was removed from the cohort.")
    expect(page.get_by_text("No learners yet.")).to_be_visible()

    # Facilitators: name the TA from the course's roster, then withdraw them.
    people = page.get_by_test_id("facilitators-status")
    page.get_by_label("Person from the course").select_option(value=ta["user_id"])
    page.get_by_role("button", name="Name a facilitator").click()
    expect(people).to_have_text("Tess Assistant now facilitates the cohort.")
    expect(page.get_by_test_id("facilitator")).to_have_count(1)
    expect(page.get_by_test_id("facilitator")).to_contain_text("Tess Assistant")
    expect_no_violations(page, "the cohort page after the changes")
    page.set_viewport_size(PHONE)
    expect_no_violations(page, "the cohort page for its instructor on a phone")
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Withdraw Tess Assistant as facilitator").click()
    withdraw = page.get_by_role("dialog", name="Withdraw Tess Assistant?")
    withdraw.get_by_role("button", name="Withdraw").click()
    expect(people).to_have_text("Tess Assistant no longer facilitates the cohort.")
    expect(page.get_by_test_id("facilitator")).to_have_count(0)

    # In the weekend cohort Mo's row says where they came from, when and why.
    page.goto(f"/cohorts/{weekend}")
    row = page.get_by_test_id("member").filter(has_text="Mo Mover")
    expect(row.get_by_test_id("member-history")).to_contain_text(
        "Moved from Morning cohort to Weekend cohort on"
    )
    expect(row.get_by_test_id("member-history")).to_contain_text(": Works weekdays now")
    expect(row).to_contain_text("moved here")
    expect_no_violations(page, "the receiving cohort on a phone")
    assert no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
