"""The rubric editor in real Chromium on a phone-sized (390 px) viewport: an instructor opens
the rubric of an assignment that was already used for a grade (the page says what editing
it does to that grade), renames a criterion, adds one with its levels, moves it up with
the keyboard, removes a level (undoes it once, then removes it for good), is told under the
field what is wrong when a name is left empty, saves, reloads and finds it all; a TA then
grades with the edited rubric and the grade given before keeps its points. axe-core finds
nothing at each step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, ViewportSize, expect

from kits.nodes import Node

PHONE: ViewportSize = {"width": 390, "height": 800}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Setup:
    course_id: str
    assignment_id: str
    rubric_id: str
    teacher: Person
    ta: Person
    first: str
    second: str


def _call(node: Node, email: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(node.login(email)) as client:
        response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def setup(chromium: Browser, sqlite_node: Node) -> Iterator[Setup]:
    teacher = new_person(chromium, sqlite_node, "Rhea Instructor", "instructor")
    ta = new_person(chromium, sqlite_node, "Tomas Assistant")
    students = [new_person(chromium, sqlite_node, n) for n in ("Ada Writer", "Bo Writer")]
    course = _call(
        sqlite_node,
        teacher.email,
        "POST",
        "/api/v1/courses",
        json={"code": f"R-{uuid.uuid4().hex[:6]}", "title": "Rhetoric"},
    )
    cid = course["id"]
    enrol = [(ta.email, "ta")] + [(s.email, "student") for s in students]
    for email, role in enrol:
        body = {"email": email, "role": role}
        _call(sqlite_node, teacher.email, "POST", f"/api/v1/courses/{cid}/enrollments", json=body)
    rubric = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"/api/v1/courses/{cid}/rubrics",
        json={
            "title": "Speech rubric",
            "criteria": [
                {
                    "id": "claim",
                    "description": "Claim",
                    "levels": [
                        {"id": "strong", "title": "Strong", "points": "6"},
                        {"id": "weak", "title": "Weak", "points": "2"},
                    ],
                },
                {
                    "id": "delivery",
                    "description": "Delivery",
                    "levels": [
                        {"id": "fluent", "title": "Fluent", "points": "4"},
                        {"id": "halting", "title": "Halting", "points": "1"},
                        {"id": "absent", "title": "Absent", "points": "0"},
                    ],
                },
            ],
        },
    )
    assignment = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"/api/v1/courses/{cid}/assignments",
        json={"title": "Speech", "points": "10", "published": True, "rubric_id": rubric["id"]},
    )
    aid = assignment["id"]
    for s in students:
        path = f"/api/v1/assignments/{aid}/submissions"
        _call(sqlite_node, s.email, "POST", path, json={"text": f"Speech by {s.name}"})
        s.close()
    # The first student is graded with the rubric as it was: Strong + Halting = 7.
    entries = _call(sqlite_node, teacher.email, "GET", f"/api/v1/assignments/{aid}/grading")
    first = next(e for e in entries["entries"] if e["label"] == "Ada Writer")["key"]
    second = next(e for e in entries["entries"] if e["label"] == "Bo Writer")["key"]
    graded = _call(
        sqlite_node,
        ta.email,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{first}",
        json={"rubric": {"claim": "strong", "delivery": "halting"}},
    )
    assert graded["grade"]["score"] == "7.00"
    for person in (teacher, ta):
        person.page.set_viewport_size(PHONE)
    yield Setup(cid, aid, rubric["id"], teacher, ta, first, second)
    for person in (teacher, ta):
        assert not person.errors, person.errors
        person.close()


def test_an_instructor_edits_a_used_rubric_and_a_ta_grades_with_it(
    setup: Setup, sqlite_node: Node
) -> None:
    page = setup.teacher.page
    log_in(setup.teacher, f"/courses/{setup.course_id}/assignments/{setup.assignment_id}/edit")
    expect(page.get_by_label("Rubric to edit")).to_have_value(setup.rubric_id)
    expect(page.get_by_test_id("rubric-in-use")).to_contain_text("used for 1 grade")
    expect(page.get_by_test_id("rubric-in-use")).to_contain_text("keeps the points")
    expect(page.get_by_test_id("rubric-total")).to_have_text("Total: 10.00 points")
    expect_no_violations(page, "the rubric editor with a rubric used for a grade")
    assert no_horizontal_scroll(page)

    # Rename a criterion and describe it.
    page.get_by_label("Criterion 1: Name", exact=True).fill("Central claim")
    page.get_by_label("Criterion 1: Description (optional)", exact=True).fill("One sentence.")
    # Add a third criterion with two levels.
    page.get_by_role("button", name="Add a criterion").click()
    expect(page.get_by_label("Criterion 3: Name", exact=True)).to_be_focused()
    page.keyboard.type("Evidence")
    page.get_by_label("Criterion 3, level 1: Level name", exact=True).fill("Cited")
    page.get_by_label("Criterion 3, level 1: Points", exact=True).fill("5")
    page.get_by_label("Criterion 3, level 1: What earns this level (optional)", exact=True).fill(
        "Two sources or more"
    )
    page.get_by_role("button", name="Add a level to criterion 3").click()
    expect(page.get_by_label("Criterion 3, level 2: Level name", exact=True)).to_be_focused()
    page.keyboard.type("None")
    page.get_by_label("Criterion 3, level 2: Points", exact=True).fill("0")
    expect(page.get_by_test_id("rubric-total")).to_have_text("Total: 15.00 points")
    # Move it up with the keyboard: focus follows the moved criterion.
    page.get_by_role("button", name="Move criterion 3 up").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move criterion 2 up")).to_be_focused()
    expect(page.get_by_label("Criterion 2: Name", exact=True)).to_have_value("Evidence")
    expect(page.get_by_test_id("announcer")).to_contain_text("Moved to position 2.")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move criterion 1 down")).to_be_focused()
    expect(page.get_by_label("Criterion 1: Name", exact=True)).to_have_value("Evidence")
    # Remove the Absent level of Delivery (now criterion 3), undo, then remove it again.
    expect(page.get_by_label("Criterion 3: Name", exact=True)).to_have_value("Delivery")
    page.get_by_role("button", name="Criterion 3: Remove level 3").click()
    undo = page.get_by_test_id("rubric-undo")
    expect(undo).to_be_focused()
    expect(page.get_by_test_id("announcer")).to_contain_text('Level "Absent" removed.')
    page.keyboard.press("Enter")
    absent = page.get_by_label("Criterion 3, level 3: Level name", exact=True)
    expect(absent).to_have_value("Absent")
    expect(absent).to_be_focused()
    page.get_by_role("button", name="Criterion 3: Remove level 3").click()
    expect(absent).to_have_count(0)
    expect_no_violations(page, "the rubric editor while editing")
    assert no_horizontal_scroll(page)
    shot(page, "rubric-editor-phone")

    # A name left empty: the error is under the field, tied to it, and focus goes there.
    name = page.get_by_label("Criterion 2: Name", exact=True)
    name.fill("")
    page.get_by_role("button", name="Save the rubric").click()
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    error_id = (name.get_attribute("aria-describedby") or "").split()[-1]
    expect(page.locator(f"#{error_id}")).to_have_text("Fill this in.")
    expect(page.get_by_test_id("form-errors")).to_contain_text("One field needs a change.")
    expect(page.get_by_test_id("rubric-status")).to_have_text("The rubric was not saved.")
    expect_no_violations(page, "the rubric editor showing an error")
    name.fill("Central claim")
    page.get_by_role("button", name="Save the rubric").click()
    expect(page.get_by_test_id("rubric-status")).to_have_text(
        'Rubric "Speech rubric" saved: 15.00 points.'
    )
    expect(name).not_to_have_attribute("aria-invalid", "true")

    # Reloaded, it is all there.
    page.reload()
    expect(page.get_by_label("Rubric to edit")).to_have_value(setup.rubric_id)
    names = [page.get_by_label(f"Criterion {n}: Name", exact=True) for n in (1, 2, 3)]
    for locator, value in zip(names, ["Evidence", "Central claim", "Delivery"], strict=True):
        expect(locator).to_have_value(value)
    expect(page.get_by_label("Criterion 2: Description (optional)", exact=True)).to_have_value(
        "One sentence."
    )
    expect(page.get_by_label("Criterion 1, level 1: Points", exact=True)).to_have_value("5")
    expect(page.get_by_label("Criterion 3, level 3: Level name", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("rubric-total")).to_have_text("Total: 15.00 points")

    # The TA grades the second student with the edited rubric; the first keeps 7.
    ta = setup.ta.page
    log_in(setup.ta, f"/courses/{setup.course_id}/assignments/{setup.assignment_id}/grading")
    table = ta.get_by_test_id("grading-table")
    table.get_by_role("button", name="Bo Writer").click()
    panel = ta.get_by_test_id("grading-panel")
    expect(panel.get_by_role("group", name="Evidence")).to_contain_text("Two sources or more")
    expect(panel.get_by_role("group", name="Delivery").get_by_role("radio")).to_have_count(2)
    panel.get_by_role("radio", name="Cited (5)").check()
    panel.get_by_role("radio", name="Strong (6)").check()
    panel.get_by_role("radio", name="Fluent (4)").check()
    expect_no_violations(ta, "the grading view with the edited rubric")
    panel.get_by_role("button", name="Submit grade").click()
    expect(ta.get_by_test_id("grade-status")).to_have_text("Grade saved: 15.00.")
    detail = _call(
        sqlite_node,
        setup.teacher.email,
        "GET",
        f"/api/v1/assignments/{setup.assignment_id}/grading/{setup.first}",
    )
    assert detail["grade"]["score"] == "7.00"
    second = _call(
        sqlite_node,
        setup.teacher.email,
        "GET",
        f"/api/v1/assignments/{setup.assignment_id}/grading/{setup.second}",
    )
    assert second["grade"]["score"] == "15.00"
    assert len(second["grade"]["rubric"]) == 3
