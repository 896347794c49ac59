"""The course files page in real Chromium: an instructor uploads with the stock
tus-js-client, the connection drops in the middle (a chunk's request is cut) and the
upload resumes by itself from the server's offset, ending with the same bytes; the file is
downloaded through its signed link and deleted; axe-core finds nothing on desktop and phone,
the page fits a phone; a student is refused the staff's list."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from blake3 import blake3
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, Route, expect

from kits.nodes import Node

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Course:
    id: str
    title: str
    teacher: Person
    student: Person


@pytest.fixture(scope="module")
def course(chromium: Browser, sqlite_node: Node) -> Iterator[Course]:
    teacher = new_person(chromium, sqlite_node, "Fay Teacher", "instructor")
    student = new_person(chromium, sqlite_node, "Sol Student")
    title = "Genetics"
    with sqlite_node.client(sqlite_node.login(teacher.email)) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"G-{uuid.uuid4().hex[:6]}", "title": title}
        )
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        enrolled = client.post(
            f"/api/v1/courses/{course_id}/enrollments",
            json={"email": student.email, "role": "student"},
        )
        assert enrolled.status_code == 201, enrolled.text
    yield Course(course_id, title, teacher, student)
    teacher.close()
    student.close()


def test_an_upload_cut_off_resumes_and_the_file_round_trips(
    course: Course, sqlite_node: Node
) -> None:
    page = course.teacher.page
    log_in(course.teacher, f"/courses/{course.id}/files")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Files of {course.title}")
    expect(page.get_by_text("No files yet.")).to_be_visible()
    # The second chunk's request is cut, once: the page retries from the server's offset.
    patches: list[str] = []

    def cut_second_patch(route: Route) -> None:
        if route.request.method == "PATCH":
            patches.append(route.request.url)
            if len(patches) == 2:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/courses/*/uploads/*", cut_second_patch)
    data = b"%PDF-1.7\n" + os.urandom(9 * 1024 * 1024) + b"\n%%EOF\n"
    page.get_by_label("Choose files to upload").set_input_files(
        files=[{"name": "handout.pdf", "mimeType": "application/pdf", "buffer": data}]
    )
    upload = page.locator("li.upload[data-name='handout.pdf']")
    expect(upload).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("announcer")).to_contain_text(
        "Connection lost while uploading handout.pdf"
    )
    expect(page.get_by_test_id("announcer")).to_contain_text("handout.pdf uploaded.")
    assert len(patches) >= 3  # 8 MiB, the cut one, then the rest from the offset
    page.unroute("**/api/v1/courses/*/uploads/*")
    row = page.locator("table.files tbody tr", has_text="handout.pdf")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("application/pdf")
    with sqlite_node.client(sqlite_node.login(course.teacher.email)) as client:
        listed = client.get(f"/api/v1/courses/{course.id}/files").json()["items"]
    assert [f["blake3"] for f in listed] == [blake3(data).hexdigest()]
    expect_no_violations(page, "files page with an upload done")
    shot(page, "course-files")

    # Download through the signed link: the same bytes.
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download handout.pdf").click()
    path = downloading.value.path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert downloading.value.suggested_filename == "handout.pdf"

    # Delete, by keyboard: focus the button, Enter, then confirm in the dialog.
    page.get_by_role("button", name="Delete handout.pdf").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete handout.pdf?")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No files yet.")).to_be_visible()
    expect(page.get_by_test_id("announcer")).to_contain_text("handout.pdf deleted.")


def test_the_files_page_fits_a_phone_and_is_staff_only(course: Course) -> None:
    page = course.teacher.page
    page.set_viewport_size(PHONE)
    page.goto(f"/courses/{course.id}/files")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Files of {course.title}")
    page.get_by_label("Choose files to upload").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"plain notes\n" * 100}]
    )
    expect(page.locator("li.upload[data-name='notes.txt']")).to_have_attribute("data-state", "done")
    expect(page.locator("table.files tbody tr", has_text="notes.txt")).to_have_count(1)
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "files page on a phone")
    student = course.student
    log_in(student, f"/courses/{course.id}/files")
    expect(student.page.get_by_role("alert")).to_contain_text("does not allow")


def test_an_instructor_copies_the_course_in_the_browser(course: Course) -> None:
    page = course.teacher.page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/courses/{course.id}")
    page.get_by_text("Copy this course").click()
    page.get_by_label("Code of the copy").fill(f"G2-{uuid.uuid4().hex[:6]}")
    expect(page.get_by_label("Title of the copy")).to_have_value(f"{course.title} (copy)")
    expect_no_violations(page, "the copy form")
    page.get_by_role("button", name="Copy the course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{course.title} (copy)")
    assert course.id not in page.url
    # A code the server refuses (spaces) is shown as an error, and nothing is copied.
    page.goto(f"/courses/{course.id}")
    page.get_by_text("Copy this course").click()
    page.get_by_label("Code of the copy").fill("has spaces")
    page.get_by_role("button", name="Copy the course").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert course.id in page.url


def test_a_page_is_unpublished_renamed_and_deleted_in_its_editor(
    course: Course, sqlite_node: Node
) -> None:
    token = sqlite_node.login(course.teacher.email)
    with sqlite_node.client(token) as client:
        page_id = client.post(
            f"/api/v1/courses/{course.id}/pages", json={"title": "Draft notes"}
        ).json()["id"]
        assert client.post(f"/api/v1/pages/{page_id}/publish").status_code == 200
    page = course.teacher.page
    page.goto(f"/courses/{course.id}/pages/{page_id}/edit")
    status = page.get_by_test_id("published-status")
    expect(status).to_contain_text("Published")
    page.get_by_role("button", name="Unpublish").click()
    expect(status).to_contain_text("Not published")
    expect(page.get_by_role("button", name="Unpublish")).to_be_hidden()
    page.get_by_text("Rename or delete this page").click()
    page.get_by_label("Page title").fill("Lab notes")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lab notes")
    expect_no_violations(page, "the page editor's management")
    page.get_by_role("button", name="Delete this page").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete this page").click()
    expect(page).to_have_url(re.compile(f"/courses/{course.id}$"))
    with sqlite_node.client(token) as client:
        assert client.get(f"/api/v1/pages/{page_id}").status_code == 404
