"""The gradebook in real Chromium on a phone-sized (390 px) viewport: an instructor moves
through the grid with the arrow keys, edits a score with Enter (Escape cancels), reads a
cell's history, posts a column that was hidden, and imports a CSV after its preview; the
student's grades page shows only what is posted, with the grade the grid shows. axe-core
finds nothing on either page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from a11ykit import expect_no_violations, focused, no_horizontal_scroll, tab_until
from browserkit import Person, launch_browser, log_in, new_person
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
    quiz_id: str
    essay_id: str
    teacher: Person
    student: Person


def _call(node: Node, email: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(node.login(email)) as client:
        response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def setup(chromium: Browser, sqlite_node: Node) -> Iterator[Setup]:
    teacher = new_person(chromium, sqlite_node, "Gia Grader", "instructor")
    student = new_person(chromium, sqlite_node, "Ana Learner")
    other = new_person(chromium, sqlite_node, "Bo Learner")
    code = f"G-{uuid.uuid4().hex[:6]}"
    course = _call(
        sqlite_node,
        teacher.email,
        "POST",
        "/api/v1/courses",
        json={"code": code, "title": "Algebra"},
    )
    base = f"/api/v1/courses/{course['id']}"
    for person in (student, other):
        body = {"email": person.email, "role": "student"}
        _call(sqlite_node, teacher.email, "POST", f"{base}/enrollments", json=body)
    other.close()
    quiz = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"{base}/gradebook/columns",
        json={"title": "Quiz 1", "points_possible": "10"},
    )
    essay = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"{base}/gradebook/columns",
        json={"title": "Essay", "points_possible": "20", "post_policy": "manual"},
    )
    student_id = sqlite_node.user_id(student.email)
    for column, score in ((quiz, "8"), (essay, "15")):
        _call(
            sqlite_node,
            teacher.email,
            "PUT",
            f"{base}/gradebook/columns/{column['id']}/grades/{student_id}",
            json={"score": score},
        )
    for person in (teacher, student):
        person.page.set_viewport_size(PHONE)
    yield Setup(sqlite_node, course["id"], quiz["id"], essay["id"], teacher, student)
    for person in (teacher, student):
        assert not person.errors, person.errors
        person.close()


def test_the_instructor_grades_in_the_grid_with_the_keyboard(setup: Setup) -> None:
    page = setup.teacher.page
    log_in(setup.teacher, f"/courses/{setup.course_id}/gradebook")
    grid = page.get_by_role("grid")
    ana = grid.get_by_role("row").filter(has_text="Ana Learner")
    expect(ana.get_by_test_id("current")).to_have_text("76.67%")  # (8 + 15) / 30
    expect(ana).to_contain_text("Not posted")
    expect_no_violations(page, "the gradebook grid")
    assert no_horizontal_scroll(page)
    # One cell is in the tab order: the first student's name; arrows move from there.
    tab_until(page, lambda f: f.get("role") == "rowheader")
    assert focused(page)["name"] == "Ana Learner"
    page.keyboard.press("ArrowRight")
    assert focused(page)["role"] == "gridcell" and focused(page)["name"].startswith("8.00")
    # Enter edits, Escape cancels, Enter saves.
    page.keyboard.press("Enter")
    score = page.get_by_label("Score for Ana Learner in Quiz 1")
    expect(score).to_be_focused()
    score.fill("1")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("announcer")).to_contain_text("Edit cancelled.")
    assert focused(page)["name"].startswith("8.00")
    page.keyboard.press("Enter")
    page.get_by_label("Score for Ana Learner in Quiz 1").fill("9")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("announcer")).to_contain_text("Saved Ana Learner, Quiz 1: 9.")
    expect(ana.get_by_test_id("current")).to_have_text("80.00%")  # (9 + 15) / 30
    assert focused(page)["name"].startswith("9.00")
    # The selected grade's history, then posting the hidden essay.
    details = page.get_by_role("region", name="Ana Learner, Quiz 1")
    details.get_by_role("button", name="History of this grade").click()
    expect(details.get_by_test_id("cell-history").locator("li")).to_have_count(2)
    expect(details.get_by_test_id("cell-history").locator("li").first).to_contain_text(
        "8.00 → 9.00"
    )
    grid.locator(f"td[data-column-id='{setup.essay_id}']").first.click()
    page.get_by_role("button", name="Post grades of Essay").click()
    expect(page.get_by_test_id("announcer")).to_contain_text("Posted 1 grade of Essay.")
    expect(ana).not_to_contain_text("Not posted")
    expect_no_violations(page, "the gradebook after posting")
    assert no_horizontal_scroll(page)
    # The student's name selects their final grade: an override needs a reason.
    ana.get_by_role("rowheader").click()
    final = page.get_by_role("region", name="Final grade of Ana Learner")
    final.get_by_label("Override (%)").fill("91.5")
    final.get_by_role("button", name="Save override").click()
    expect(final.get_by_role("status")).to_have_text("Say why the grade is overridden.")
    final.get_by_label("Reason (required)").fill("Extra project")
    final.get_by_role("button", name="Save override").click()
    expect(page.get_by_test_id("announcer")).to_contain_text("Override saved: 91.5%.")
    expect(ana.get_by_test_id("current")).to_contain_text("Override 91.50%")
    expect(ana.get_by_test_id("letter")).to_have_text("A-")
    expect_no_violations(page, "the override form")
    final.get_by_label("Reason (required)").fill("Project withdrawn")
    final.get_by_role("button", name="Remove override").click()
    expect(page.get_by_test_id("announcer")).to_contain_text("Override removed.")
    expect(ana.get_by_test_id("letter")).to_have_text("B-")


def test_a_csv_import_is_previewed_then_applied(setup: Setup, tmp_path: Path) -> None:
    page = setup.teacher.page
    page.goto(f"/courses/{setup.course_id}/gradebook")  # signed in by the test before
    with setup.node.client(setup.node.login(setup.teacher.email)) as client:
        text = client.get(f"/api/v1/courses/{setup.course_id}/gradebook/export.csv").text
    lines = text.splitlines()
    bo = next(i for i, line in enumerate(lines) if line.startswith("Bo Learner"))
    cells = lines[bo].split(",")
    cells[3] = "7"  # Bo's Quiz 1
    lines[bo] = ",".join(cells)
    upload = tmp_path / "grades.csv"
    upload.write_text("\r\n".join(lines) + "\r\n")
    page.get_by_label("Import CSV").set_input_files(str(upload))
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("1 grade would change.")
    expect(preview.get_by_test_id("import-changes")).to_contain_text("Bo Learner")
    expect_no_violations(page, "the import preview")
    preview.get_by_role("button", name="Apply import").click()
    expect(page.get_by_test_id("announcer")).to_contain_text("Imported 1 grade.")
    bo_row = page.get_by_role("grid").get_by_role("row").filter(has_text="Bo Learner")
    expect(bo_row.get_by_test_id("current")).to_have_text("70.00%")


def test_the_student_sees_only_posted_grades(setup: Setup) -> None:
    page = setup.student.page
    log_in(setup.student, f"/courses/{setup.course_id}/grades")
    expect(page.get_by_role("heading", name="My grades: Algebra")).to_be_visible()
    expect(page.get_by_test_id("my-total")).to_have_text("Current grade: 80.00% (B-)")
    row = page.get_by_role("row").filter(has_text="Quiz 1")
    expect(row).to_contain_text("9.00 / 10.00")
    expect(page.get_by_role("row").filter(has_text="Essay")).to_contain_text("15.00 / 20.00")
    expect_no_violations(page, "the student's grades")
    assert no_horizontal_scroll(page)
    # The gradebook grid is not theirs.
    page.goto(f"{setup.node.url}/courses/{setup.course_id}/gradebook")
    expect(page.get_by_role("alert")).to_be_visible()
