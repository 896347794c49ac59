"""Grading a group assignment in real Chromium: the grading view asks whether a grade goes
to the whole group or to one member alone (Canvas's "assign grades to each student
individually"); a group grade reaches every member, a member's own grade overrides it for
that member only, and the gradebook grid shows each member's grade. axe-core finds nothing
in the grading view with the choice shown, and the choice works with the keyboard."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import launch_browser, log_in, new_person
from playwright.sync_api import Browser, expect

from kits.nodes import Node

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


def _call(node: Node, email: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(node.login(email)) as client:
        response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


def test_a_group_grade_and_a_members_own_grade(chromium: Browser, sqlite_node: Node) -> None:
    teacher = new_person(chromium, sqlite_node, "Gus Grader", "instructor")
    ana, bo, cy = (new_person(chromium, sqlite_node, n) for n in ("Ana Red", "Bo Red", "Cy Solo"))
    course = _call(
        sqlite_node,
        teacher.email,
        "POST",
        "/api/v1/courses",
        json={"code": f"GG-{uuid.uuid4().hex[:6]}", "title": "Design"},
    )["id"]
    ids = {}
    for person in (ana, bo, cy):
        ids[person.name] = _call(
            sqlite_node,
            teacher.email,
            "POST",
            f"/api/v1/courses/{course}/enrollments",
            json={"email": person.email, "role": "student"},
        )["user_id"]
    group_set = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"/api/v1/courses/{course}/group-sets",
        json={
            "name": "Pairs",
            "groups": [{"name": "Red", "members": [ids["Ana Red"], ids["Bo Red"]]}],
        },
    )
    assignment = _call(
        sqlite_node,
        teacher.email,
        "POST",
        f"/api/v1/courses/{course}/assignments",
        json={
            "title": "Bridge design",
            "points": "20",
            "published": True,
            "submission_types": ["text"],
            "group_set_id": group_set["id"],
        },
    )["id"]
    _call(
        sqlite_node,
        ana.email,
        "POST",
        f"/api/v1/assignments/{assignment}/submissions",
        json={"text": "Our bridge"},
    )

    page = teacher.page
    log_in(teacher, f"/courses/{course}/assignments/{assignment}/grading")
    table = page.get_by_test_id("grading-table")
    table.get_by_role("button", name="Ana Red").click()
    expect(page.locator("#learner-heading")).to_have_text("Ana Red")
    whom = page.get_by_role("group", name="Give this grade to")
    expect(whom.get_by_label("Everyone in the group")).to_be_checked()
    expect_no_violations(page, "grading a group member")
    page.get_by_label(re.compile("^Score out of 20")).fill("15")
    page.get_by_role("button", name="Submit grade").click()
    status = page.get_by_test_id("grade-status")
    expect(status).to_have_text("Grade saved for the whole group: 15.00.")
    # The group's grade reached Bo's row too (the list is reloaded).
    expect(table.get_by_role("row").filter(has_text="Bo Red")).to_contain_text("15.00")

    table.get_by_role("button", name="Bo Red").click()
    expect(page.locator("#learner-heading")).to_have_text("Bo Red")
    page.get_by_label(re.compile("^Score out of 20")).fill("18")
    # The keyboard picks "only this member": arrow keys move within the radio group.
    whom.get_by_label("Everyone in the group").focus()
    page.keyboard.press("ArrowDown")
    expect(whom.get_by_label("Only Bo Red (their own grade)")).to_be_checked()
    page.get_by_role("button", name="Submit grade").click()
    expect(status).to_have_text("Grade saved for this student only: 18.00.")
    expect(table.get_by_role("row").filter(has_text="Ana Red")).to_contain_text("15.00")
    expect(table.get_by_role("row").filter(has_text="Bo Red")).to_contain_text("18.00")
    # Bo's grade is marked as his own when he is opened again.
    table.get_by_role("button", name="Ana Red").click()
    table.get_by_role("button", name="Bo Red").click()
    expect(page.locator("#learner-heading")).to_have_text("Bo Red")
    expect(whom.get_by_label("Only Bo Red (their own grade)")).to_be_checked()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "grading a group member on a phone")

    # The gradebook shows each member's grade; Cy (no group, nothing handed in) has none.
    grid = _call(sqlite_node, teacher.email, "GET", f"/api/v1/courses/{course}/gradebook/grid")
    column = next(c["id"] for c in grid["structure"]["columns"] if c["source_id"] == assignment)
    scores = {
        r["student"]["name"]: (r["cells"].get(column) or {}).get("score") for r in grid["rows"]
    }
    assert scores == {"Ana Red": "15.00", "Bo Red": "18.00", "Cy Solo": None}
    page.goto(f"/courses/{course}/gradebook")
    rows = page.get_by_role("grid").get_by_role("row")
    expect(
        rows.filter(has_text="Ana Red").locator(f"td[data-column-id='{column}']")
    ).to_contain_text("15.00")
    expect(
        rows.filter(has_text="Bo Red").locator(f"td[data-column-id='{column}']")
    ).to_contain_text("18.00")
    assert not teacher.errors, teacher.errors
    for person in (teacher, ana, bo, cy):
        person.close()
