"""The gradebook setup page in real Chromium: an instructor renames the default assignment
group and weights it, adds a group, moves an item into it, weights the final grade by group,
drops a group's lowest score, reorders the groups with the keyboard and edits the letter
scheme; after each change the learners' final grades on the page are what the server's
grid computes (the same numbers as the API), and a live region says so. axe-core finds
nothing, on desktop and at 390 px; a student is refused the setup."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll, wider_than_viewport
from browserkit import launch_browser, log_in, new_person
from playwright.sync_api import Browser, Page, expect

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


def _finals(node: Node, email: str, course: str) -> dict[str, tuple[str, str]]:
    grid = _call(node, email, "GET", f"/api/v1/courses/{course}/gradebook/grid?limit=500")
    return {
        r["student"]["name"]: (f"{r['grades']['percent']}%", r["grades"]["letter"])
        for r in grid["rows"]
    }


def _page_finals(page: Page) -> dict[str, tuple[str, str]]:
    rows = page.get_by_test_id("final-grades").locator("tbody tr")
    found = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        cells = row.locator("td")
        found[row.locator("th").inner_text()] = (
            cells.nth(0).inner_text(),
            cells.nth(1).inner_text(),
        )
    return found


def _expect_final(page: Page, name: str, percent: str) -> None:
    row = page.get_by_test_id("final-grades").locator(
        "tr", has=page.get_by_role("rowheader", name=name)
    )
    expect(row.locator("td").first).to_have_text(percent)


def test_an_instructor_sets_up_groups_and_letters(chromium: Browser, sqlite_node: Node) -> None:
    teacher = new_person(chromium, sqlite_node, "Tess Teacher", "instructor")
    ana = new_person(chromium, sqlite_node, "Ana Learner")
    bo = new_person(chromium, sqlite_node, "Bo Learner")
    course = _call(
        sqlite_node,
        teacher.email,
        "POST",
        "/api/v1/courses",
        json={"code": f"S-{uuid.uuid4().hex[:6]}", "title": "Statics"},
    )["id"]
    base = f"/api/v1/courses/{course}/gradebook"
    ids = {}
    for person in (ana, bo):
        enrolled = _call(
            sqlite_node,
            teacher.email,
            "POST",
            f"/api/v1/courses/{course}/enrollments",
            json={"email": person.email, "role": "student"},
        )
        ids[person.name] = enrolled["user_id"]
    columns = {}
    for title, points in (("HW 1", "10"), ("HW 2", "10"), ("Midterm", "100")):
        made = _call(
            sqlite_node,
            teacher.email,
            "POST",
            f"{base}/columns",
            json={"title": title, "points_possible": points},
        )
        columns[title] = made["id"]
    scores = {"Ana Learner": ("10", "0", "50"), "Bo Learner": ("5", "5", "100")}
    for name, row in scores.items():
        for title, score in zip(("HW 1", "HW 2", "Midterm"), row, strict=True):
            _call(
                sqlite_node,
                teacher.email,
                "PUT",
                f"{base}/columns/{columns[title]}/grades/{ids[name]}",
                json={"score": score},
            )

    page = teacher.page
    log_in(teacher, f"/courses/{course}/gradebook")
    page.get_by_test_id("setup-link").click()
    expect(page.get_by_role("heading", name="Gradebook setup: Statics")).to_be_visible()
    status = page.get_by_test_id("setup-status")
    expect(status).to_have_attribute("role", "status")
    # Points: Ana 60 of 120, Bo 110 of 120.
    _expect_final(page, "Ana Learner", "50.00%")
    expect_no_violations(page, "gradebook setup")

    first = page.locator("fieldset.gradebook-group").first
    first.get_by_label("Name").fill("Homework")
    first.get_by_label("Weight (%)").fill("40")
    first.get_by_role("button", name="Save Assignments").click()
    expect(status).to_have_text("Saved group Homework. Final grades recomputed.")
    page.locator("#new-group-name").fill("Exams")
    page.locator("#new-group-weight").fill("60")
    page.get_by_role("button", name="Add a group").click()
    expect(status).to_have_text("Added group Exams. Final grades recomputed.")
    page.get_by_label("Group of Midterm").select_option(label="Exams")
    expect(status).to_have_text("Midterm is now in Exams. Final grades recomputed.")
    page.get_by_label("Weight the final grade by assignment group").check()
    expect(status).to_contain_text("weighted by group")
    expect(page.get_by_test_id("weight-total")).to_have_text("The weights add up to 100%.")
    # Weighted: Homework 40% (Ana 10/20, Bo 10/20), Exams 60% (Ana 50%, Bo 100%).
    _expect_final(page, "Ana Learner", "50.00%")
    _expect_final(page, "Bo Learner", "80.00%")
    assert _page_finals(page) == _finals(sqlite_node, teacher.email, course)

    homework = page.get_by_role("group", name="Homework")
    homework.get_by_label("Drop lowest").fill("1")
    homework.get_by_role("button", name="Save Homework").click()
    # Ana's 0 of 10 is dropped: Homework 100%, 40 + 30.
    _expect_final(page, "Ana Learner", "70.00%")
    assert _page_finals(page) == _finals(sqlite_node, teacher.email, course)

    # Reorder with the keyboard: Exams moves up, and focus stays in the page.
    page.get_by_role("button", name="Move Exams up").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Exams is now group 1. Final grades recomputed.")
    legends = page.locator("fieldset.gradebook-group > legend")
    expect(legends).to_have_text(["Exams", "Homework"])
    structure = _call(sqlite_node, teacher.email, "GET", base)
    ordered = sorted(structure["groups"], key=lambda g: g["position"])
    assert [g["name"] for g in ordered] == ["Exams", "Homework"]

    # Letters: keep the first and the last row, as P from 75 and F from 0.
    letters = page.locator("section[aria-labelledby='setup-scheme'] tbody tr")
    count = letters.count()
    for number in range(2, count):
        page.get_by_role("button", name=f"Remove letter {number}", exact=True).click()
    page.get_by_label("Letter 1", exact=True).fill("P")
    page.get_by_label("Lowest percent of letter 1", exact=True).fill("75")
    page.get_by_label(f"Letter {count}", exact=True).fill("F")
    page.get_by_label(f"Lowest percent of letter {count}", exact=True).fill("0")
    page.get_by_role("button", name="Save the letter grades").click()
    expect(status).to_have_text("Letter grades saved. Final grades recomputed.")
    finals = _finals(sqlite_node, teacher.email, course)
    assert finals == {"Ana Learner": ("70.00%", "F"), "Bo Learner": ("80.00%", "P")}
    assert _page_finals(page) == finals

    # A refused change is said in the live region and nothing changes.
    page.get_by_label("Letter 1", exact=True).fill("F")
    page.get_by_role("button", name="Save the letter grades").click()
    expect(status).not_to_contain_text("recomputed")
    assert _finals(sqlite_node, teacher.email, course) == finals

    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page), wider_than_viewport(page)
    expect_no_violations(page, "gradebook setup on a phone")
    assert not teacher.errors, teacher.errors

    # A student reaches the page but the server refuses the structure.
    log_in(ana, f"/courses/{course}/gradebook/setup")
    expect(ana.page.get_by_role("alert")).to_be_visible()
    for person in (teacher, ana, bo):
        person.close()
