"""Authoring and deleting labs in real Chromium (issue 20): the instructor gives a step
several hidden tests in the lab editor (adds one, moves it up, removes another, all by
keyboard-reachable buttons), saves, and finds them in that order after a reload; a draft is
deleted from the editor after a confirmation (cancelling keeps it), and a started lab
deleted from the labs page is archived (the card says so; its learner's page says the lab
was deleted). axe-core finds nothing on the editor with its tests, nor on the dialog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from a11ykit import expect_no_violations
from browserkit import Person, launch_browser, log_in, new_person
from playwright.sync_api import Browser, expect

from kits.labs import lab_body
from kits.nodes import Node, start_node


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def authoring_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(tmp_path_factory.mktemp("node"), "sqlite", request)


@dataclass
class Course:
    id: str
    teacher: Person
    learner: Person
    node: Node

    def labs(self) -> str:
        return f"/courses/{self.id}/labs"


@pytest.fixture(scope="module")
def course(chromium: Browser, authoring_node: Node) -> Iterator[Course]:
    teacher = new_person(chromium, authoring_node, "Ines Instructor", "instructor")
    learner = new_person(chromium, authoring_node, "Ada Lovelace")
    with authoring_node.client(authoring_node.login(teacher.email)) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"A-{uuid.uuid4().hex[:6]}", "title": "Python"}
        )
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        enrolled = client.post(
            f"/api/v1/courses/{course_id}/enrollments",
            json={"email": learner.email, "role": "student"},
        )
        assert enrolled.status_code == 201, enrolled.text
    yield Course(course_id, teacher, learner, authoring_node)
    for person in (teacher, learner):
        assert not person.errors, person.errors
        person.close()


def test_a_step_gets_several_hidden_tests_in_the_editor(course: Course) -> None:
    page = course.teacher.page
    log_in(course.teacher, course.labs())
    page.get_by_role("link", name="Author a new lab").click()
    page.get_by_label("Title", exact=True).fill("Many tests")
    page.get_by_role("button", name="Add a step").click()
    page.get_by_label("Title of step 1").fill("Add")
    page.get_by_label("Name of test 1 of step 1").fill("small")
    page.get_by_label("Code of test 1 of step 1").fill("assert add(1, 2) == 3")
    page.get_by_role("button", name="Add a test to step 1").click()
    expect(page.get_by_label("Name of test 2 of step 1")).to_be_focused()
    page.get_by_label("Name of test 2 of step 1").fill("negative")
    page.get_by_label("Code of test 2 of step 1").fill("assert add(-1, -2) == -3")
    page.get_by_role("button", name="Add a test to step 1").click()
    page.get_by_label("Name of test 3 of step 1").fill("strings")
    page.get_by_label("Code of test 3 of step 1").fill("assert add('a', 'b') == 'ab'")
    # Strings first, then drop the negative numbers.
    page.get_by_role("button", name="Move test 3 of step 1 up").click()
    page.get_by_role("button", name="Move test 2 of step 1 up").click()
    expect(page.get_by_label("Name of test 1 of step 1")).to_have_value("strings")
    page.get_by_role("button", name="Remove test 3 of step 1").click()
    expect(page.get_by_test_id("step-test")).to_have_count(2)
    expect_no_violations(page, "lab editor with several tests")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Edit lab: Many tests")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Name of test 1 of step 1")).to_have_value("strings")
    expect(page.get_by_label("Name of test 2 of step 1")).to_have_value("small")
    expect(page.get_by_label("Code of test 2 of step 1")).to_have_value("assert add(1, 2) == 3")
    with course.node.client(course.node.login(course.teacher.email)) as client:
        labs = client.get(f"/api/v1/courses/{course.id}/labs").json()["items"]
    tests = next(lab for lab in labs if lab["title"] == "Many tests")["steps"][0]["tests"]
    assert [(t["name"], t["source"]) for t in tests] == [
        ("strings", "assert add('a', 'b') == 'ab'"),
        ("small", "assert add(1, 2) == 3"),
    ]
    assert len({t["id"] for t in tests}) == 2


def test_a_draft_is_deleted_after_a_confirmation(course: Course) -> None:
    page = course.teacher.page
    expect(page.get_by_role("heading", name="Edit lab: Many tests")).to_be_visible()
    page.get_by_role("button", name="Delete this lab").click()
    dialog = page.get_by_role("dialog", name="Delete Many tests?")
    expect(dialog).to_contain_text("The draft is deleted for good.")
    expect_no_violations(page, "delete a lab dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Delete this lab")).to_be_focused()
    page.get_by_role("button", name="Delete this lab").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Labs")).to_be_visible()
    expect(page.get_by_test_id("lab-card").filter(has_text="Many tests")).to_have_count(0)


def test_a_started_lab_deleted_from_the_labs_page_is_archived(course: Course) -> None:
    body = lab_body(title="Started lab")
    with course.node.client(course.node.login(course.teacher.email)) as client:
        made = client.post(f"/api/v1/courses/{course.id}/labs", json=body)
        assert made.status_code == 201, made.text
        lab_id = made.json()["id"]
        assert client.post(f"/api/v1/labs/{lab_id}/start").status_code == 200
    learner = course.learner.page
    log_in(course.learner, f"/courses/{course.id}/labs/{lab_id}")
    expect(learner.get_by_role("heading", name="Started lab")).to_be_visible()
    expect(learner.locator("[data-testid=code-editor] .cm-content")).to_contain_text("def add")
    page = course.teacher.page
    page.goto(course.labs())
    card = page.get_by_test_id("lab-card").filter(has_text="Started lab")
    card.get_by_role("button", name="Delete Started lab").click()
    dialog = page.get_by_role("dialog", name="Delete Started lab?")
    expect(dialog).to_contain_text("it is archived")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(card).to_contain_text("Archived")
    expect(card.get_by_role("button", name="Delete Started lab")).to_have_count(0)
    expect(learner.get_by_role("alert")).to_contain_text("The instructor deleted this lab.")
    learner.goto(course.labs())
    expect(learner.get_by_role("heading", name="Labs")).to_be_visible()
    expect(learner.get_by_test_id("lab-card")).to_have_count(0)
