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
