"""Quizzes in real Chromium: a student answers a quiz of every question type (saved as
they go, kept through a reload, navigation by question), submits and sees the score; and a
timed quiz that ends while the browser is offline counts the answers saved before the
connection dropped, and only those; a TA reads the statistics (a chart with its table) and
grades an essay. axe-core finds nothing, on desktop and at 390 px."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person, put_in_order
from playwright.sync_api import Browser, Page, expect

from kits.nodes import Node
from tests.assessments.samples import RAW

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Course:
    node: Node
    id: str
    teacher: str
    questions: dict[str, str]

    def call(self, method: str, path: str, **kw: Any) -> Any:
        with self.node.client(self.teacher) as client:
            response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def quiz(self, kinds: list[str], **settings: Any) -> str:
        slots = [{"question_id": self.questions[k]} for k in kinds]
        body = {"title": "Forces quiz", "published": True, "slots": slots, **settings}
        return str(self.call("POST", f"/api/v1/courses/{self.id}/quizzes", json=body)["id"])

    def enrol(self, person: Person) -> None:
        self.call(
            "POST",
            f"/api/v1/courses/{self.id}/enrollments",
            json={"email": person.email, "role": "student"},
        )


@pytest.fixture(scope="module")
def course(sqlite_node: Node) -> Course:
    _, teacher = sqlite_node.register("instructor")
    with sqlite_node.client(teacher) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"QZ-{uuid.uuid4().hex[:6]}", "title": "Mechanics"}
        )
        course_id = made.json()["id"]
        bank = client.post(
            f"/api/v1/courses/{course_id}/question-banks", json={"title": "Bank"}
        ).json()["id"]
        questions = {}
        for kind, fields in RAW.items():
            definition = {"type": kind, "prompt": f"Prompt of {kind}", "points": 2, **fields}
            created = client.post(
                f"/api/v1/question-banks/{bank}/questions",
                json={"title": kind, "definition": definition},
            )
            assert created.status_code == 201, created.text
            questions[kind] = created.json()["id"]
    return Course(sqlite_node, course_id, teacher, questions)


def _question(page: Page, course: Course, kind: str) -> Any:
    return page.locator(f"section[data-question='{course.questions[kind]}']")


def _attempt_of(course: Course, quiz_id: str) -> dict[str, Any]:
    items = course.call("GET", f"/api/v1/quizzes/{quiz_id}/attempts")["items"]
    assert len(items) == 1
    return dict(course.call("GET", f"/api/v1/attempts/{items[0]['id']}"))


def test_a_student_takes_a_quiz_of_every_type(chromium: Browser, course: Course) -> None:
    student = new_person(chromium, course.node, "Noor Student")
    course.enrol(student)
    quiz_id = course.quiz(list(RAW))
    page = student.page
    log_in(student, f"/courses/{course.id}/quizzes/{quiz_id}")
    expect(page.get_by_role("heading", name="Forces quiz")).to_be_visible()
    expect_no_violations(page, "quiz intro")
    page.get_by_test_id("start").click()
    expect(page.get_by_role("navigation", name="Questions")).to_be_visible()
    _question(page, course, "single_choice").get_by_label("Beta").check()
    multiple = _question(page, course, "multiple_choice")
    multiple.get_by_label("Alpha").check()
    multiple.get_by_label("Gamma").check()
    _question(page, course, "true_false").get_by_label("True").check()
    _question(page, course, "numeric").get_by_role("textbox").fill("987654.321 km")
    _question(page, course, "short_answer").get_by_role("textbox").fill("SECRET answer")
    blanks = _question(page, course, "fill_blanks")
    blanks.get_by_label("Blank 1").fill("987654.321 K")
    blanks.get_by_label("Blank 3").select_option(label="two")
    matching = _question(page, course, "matching")
    for prompt, city in (("France", "Paris"), ("Italy", "Rome"), ("Vatican", "Rome")):
        matching.get_by_label(prompt).select_option(label=city)
    ordering = _question(page, course, "ordering")
    put_in_order(ordering, ["one", "two", "three", "four"])
    _question(page, course, "math").get_by_role("textbox").fill("987654321*x^2")
    _question(page, course, "essay").get_by_role("textbox").fill("Forces come in pairs.")
    # A file-upload answer goes up with the tus widget, naming the attempt.
    upload = _question(page, course, "file_upload")
    upload.get_by_label(re.compile("^Files for")).set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(upload.get_by_role("list", name="Files handed in")).to_contain_text("report.pdf")
    expect(page.get_by_test_id("save-status")).to_have_text("All answers saved")
    link = page.get_by_role("navigation", name="Questions").get_by_role("link").first
    expect(link).to_have_attribute("aria-label", "Question 1, answered")
    expect_no_violations(page, "quiz in progress")
    # A reload keeps every answer (from the server).
    page.reload()
    expect(_question(page, course, "single_choice").get_by_label("Beta")).to_be_checked()
    expect(_question(page, course, "essay").get_by_role("textbox")).to_have_value(
        "Forces come in pairs."
    )
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "quiz on a phone")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submitted")).to_have_text("Your quiz is submitted.")
    # Single and multiple choice, true/false, numeric, short answer, matching, ordering and
    # math: 8 x 2; the blanks: two of their four weights answered right, 1.
    expect(page.get_by_test_id("score")).to_have_text("Score: 17 of 24")
    attempt = _attempt_of(course, quiz_id)
    scores = {q: r["score"] for q, r in attempt["results"].items()}
    for kind in ("single_choice", "multiple_choice", "true_false", "numeric", "ordering"):
        assert scores[course.questions[kind]] == 2.0, kind
    assert attempt["results"][course.questions["essay"]]["status"] == "manual"
    handed = next(q for q in attempt["questions"] if q["id"] == course.questions["file_upload"])
    assert handed["answer"]["files"][0]["size"] == len(PDF)
    assert not student.errors, student.errors
    student.close()


def test_a_timed_quiz_that_ends_offline_counts_the_answers_saved_before(
    chromium: Browser, course: Course
) -> None:
    student = new_person(chromium, course.node, "Omar Offline")
    course.enrol(student)
    quiz_id = course.quiz(["true_false", "short_answer"], time_limit_seconds=20)
    page = student.page
    log_in(student, f"/courses/{course.id}/quizzes/{quiz_id}")
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("timer")).to_contain_text("Time left")
    _question(page, course, "true_false").get_by_label("True").check()
    expect(page.get_by_test_id("save-status")).to_have_text("All answers saved")
    student.context.set_offline(True)
    _question(page, course, "short_answer").get_by_role("textbox").fill("SECRET answer")
    expect(page.get_by_test_id("save-status")).to_contain_text("Offline", timeout=15_000)
    # The answer waits on this device; the deadline passes while offline.
    expect(page.get_by_test_id("save-status")).to_contain_text("Time is up", timeout=40_000)
    student.context.set_offline(False)
    expect(page.get_by_test_id("submitted")).to_contain_text("Time ran out", timeout=30_000)
    attempt = _attempt_of(course, quiz_id)
    assert attempt["submitted_by"] == "deadline"
    results = attempt["results"]
    assert results[course.questions["true_false"]]["score"] == 2.0
    assert results[course.questions["short_answer"]]["score"] == 0.0
    shown = {q["id"]: q["answer"] for q in attempt["questions"]}
    assert shown[course.questions["short_answer"]] is None
    with httpx.Client(base_url=course.node.url) as client:
        assert client.get(f"/courses/{course.id}/quizzes/{quiz_id}").status_code == 200
    assert not [e for e in student.errors if "Failed to fetch" not in e], student.errors
    student.close()


def test_a_grader_reads_the_statistics_and_grades_an_essay(
    chromium: Browser, course: Course
) -> None:
    quiz_id = course.quiz(["true_false", "essay"], max_attempts=None)
    tf, essay = course.questions["true_false"], course.questions["essay"]
    learners = [course.node.register() for _ in range(2)]
    for (email, token), right in zip(learners, (True, False), strict=True):
        course.call(
            "POST",
            f"/api/v1/courses/{course.id}/enrollments",
            json={"email": email, "role": "student"},
        )
        with course.node.client(token) as client:
            attempt = client.post(f"/api/v1/quizzes/{quiz_id}/attempts").json()
            answers = {tf: {"answer": right}, essay: {"text": f"Essay by {email}"}}
            saved = client.put(
                f"/api/v1/attempts/{attempt['id']}/answers", json={"seq": 1, "answers": answers}
            )
            assert saved.status_code == 200, saved.text
            assert client.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200
    teacher = new_person(chromium, course.node, "Greta Grader", "instructor")
    course.call(
        "POST",
        f"/api/v1/courses/{course.id}/enrollments",
        json={"email": teacher.email, "role": "ta"},
    )
    page = teacher.page
    log_in(teacher, f"/courses/{course.id}/quizzes/{quiz_id}/results")
    expect(page.get_by_role("heading", name="Results of Forces quiz")).to_be_visible()
    table = page.get_by_test_id("distribution")
    expect(table.get_by_role("row", name="0\u20139% 1")).to_be_visible()
    expect(table.get_by_role("row", name="50\u201359% 1")).to_be_visible()
    expect_no_violations(page, "quiz results")
    first = page.get_by_role("form", name="essay: answer 1")
    first.get_by_label("Score (out of 2)").fill("1.5")
    first.get_by_label("Comment for the student").fill("Clear.")
    first.get_by_role("button", name="Save the grade").click()
    expect(first.get_by_role("status")).to_have_text("Grade saved")
    graded = course.call("GET", f"/api/v1/quizzes/{quiz_id}/grading", params={"question_id": essay})
    assert len(graded["items"]) == 1  # one essay still waits
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    assert not teacher.errors, teacher.errors
    teacher.close()
