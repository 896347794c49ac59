"""Issue 19's whole assessment flow in real Chromium: a course with a timed quiz of every
question type and an assignment with a rubric; three students (each in their own browser
context) take the quiz and hand the assignment in; the instructor grades the essays by
hand on the results page and the assignment with the rubric in the grading view, releases
the quiz and posts the assignment; the gradebook grid and each student's "my grades" page
show the scores and final grade computed here from the known answers; then a key change
regrades only the students it concerns, and the grade history records old, new and why.
axe-core finds nothing on the grid nor on a student's grades page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from a11ykit import expect_no_violations
from browserkit import Person, launch_browser, log_in, new_person, put_in_order
from playwright.sync_api import Browser, Page, expect

from kits.nodes import Node
from kits.waiting import eventually
from tests.assessments.samples import RAW

POINTS = 2
"""Every question is worth this much."""
QUIZ_POINTS = POINTS * len(RAW)
ESSAY_SCORE = 1.5
"""What the instructor gives each essay by hand."""
RUBRIC = {"good": ("Good", 10), "poor": ("Poor", 4)}
ASSIGNMENT_POINTS = max(points for _, points in RUBRIC.values())


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Flow:
    """The course, its quiz and assignment, and the people; filled in as the test goes."""

    node: Node
    chromium: Browser
    teacher: Person
    course_id: str
    quiz_id: str
    assignment_id: str
    questions: dict[str, str]
    students: dict[str, Person] = field(default_factory=dict)

    def call(self, method: str, path: str, **kw: Any) -> Any:
        with self.node.client(self.node.login(self.teacher.email)) as client:
            response = client.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


def _definition(kind: str, **changes: Any) -> dict[str, Any]:
    return {"type": kind, "prompt": f"Prompt of {kind}", "points": POINTS, **RAW[kind], **changes}


@pytest.fixture(scope="module")
def flow(chromium: Browser, sqlite_node: Node) -> Iterator[Flow]:
    teacher = new_person(chromium, sqlite_node, "Ivy Instructor", "instructor")
    with sqlite_node.client(sqlite_node.login(teacher.email)) as client:

        def post(path: str, body: dict[str, Any]) -> Any:
            made = client.post(path, json=body)
            assert made.status_code == 201, made.text
            return made.json()

        course = post("/api/v1/courses", {"code": f"AF-{uuid.uuid4().hex[:6]}", "title": "Flow"})
        base = f"/api/v1/courses/{course['id']}"
        bank = post(f"{base}/question-banks", {"title": "Bank"})["id"]
        questions = {
            kind: post(
                f"/api/v1/question-banks/{bank}/questions",
                {"title": kind, "definition": _definition(kind)},
            )["id"]
            for kind in RAW
        }
        quiz = post(
            f"{base}/quizzes",
            {
                "title": "Midterm",
                "published": True,
                "slots": [{"question_id": questions[k]} for k in RAW],
                "time_limit_seconds": 3600,
                "results_release": "manual",
            },
        )
        levels = [{"id": k, "title": t, "points": str(p)} for k, (t, p) in RUBRIC.items()]
        criteria = [{"id": "argument", "description": "Argument", "levels": levels}]
        rubric = post(f"{base}/rubrics", {"title": "R", "criteria": criteria})
        assignment = post(
            f"{base}/assignments",
            {
                "title": "Lab essay",
                "points": str(ASSIGNMENT_POINTS),
                "published": True,
                "submission_types": ["text"],
                "rubric_id": rubric["id"],
            },
        )
    made = Flow(
        sqlite_node,
        chromium,
        teacher,
        course["id"],
        quiz["id"],
        assignment["id"],
        questions,
    )
    for name in ("Ada Able", "Ben Bright", "Cy Careful"):
        person = new_person(chromium, sqlite_node, name)
        made.call("POST", f"{base}/enrollments", json={"email": person.email, "role": "student"})
        made.students[name] = person
    yield made
    for person in (teacher, *made.students.values()):
        assert not person.errors, (person.name, person.errors)
        person.close()


def _question(page: Page, flow: Flow, kind: str) -> Any:
    return page.locator(f"section[data-question='{flow.questions[kind]}']")


def _answer_everything_right(page: Page, flow: Flow) -> None:
    """Right answers to every auto-graded question but the blanks (half their weight) and
    the code (the starter code, which fails its tests: 0 whether or not the sandbox has
    run it yet). The file-upload question has no input on the quiz page yet: unanswered."""
    _question(page, flow, "single_choice").get_by_label("Beta").check()
    multiple = _question(page, flow, "multiple_choice")
    multiple.get_by_label("Alpha").check()
    multiple.get_by_label("Gamma").check()
    _question(page, flow, "true_false").get_by_label("True").check()
    _question(page, flow, "numeric").get_by_role("textbox").fill("987654.321 km")
    _question(page, flow, "short_answer").get_by_role("textbox").fill("SECRET answer")
    blanks = _question(page, flow, "fill_blanks")
    blanks.get_by_label("Blank 1").fill("987654.321 K")
    blanks.get_by_label("Blank 3").select_option(label="two")
    matching = _question(page, flow, "matching")
    for prompt, city in (("France", "Paris"), ("Italy", "Rome"), ("Vatican", "Rome")):
        matching.get_by_label(prompt).select_option(label=city)
    put_in_order(_question(page, flow, "ordering"), ["one", "two", "three", "four"])
    _question(page, flow, "math").get_by_role("textbox").fill("987654321*x^2")


# Blanks: weights 1 + 2 + 1; Ada gets blanks 1 and 3 right (2 of 4), so half the points.
BLANKS_HALF = POINTS * 2 / 4
# What each student answers, and the auto-graded score it earns (before the essay).
AUTO = {
    # single, multiple, true/false, numeric, short answer, matching, ordering, math right.
    "Ada Able": 8 * POINTS + BLANKS_HALF,
    # single right, true/false False (wrong under the first key).
    "Ben Bright": 1 * POINTS,
    # single wrong (Alpha), numeric right; no true/false answer at all.
    "Cy Careful": 1 * POINTS,
}
GRADE_LEVEL = {"Ada Able": "good", "Ben Bright": "poor", "Cy Careful": "good"}


def _fill(page: Page, flow: Flow, name: str) -> None:
    if name == "Ada Able":
        _answer_everything_right(page, flow)
    elif name == "Ben Bright":
        _question(page, flow, "single_choice").get_by_label("Beta").check()
        _question(page, flow, "true_false").get_by_label("False").check()
    else:
        _question(page, flow, "single_choice").get_by_label("Alpha").check()
        _question(page, flow, "numeric").get_by_role("textbox").fill("987654.321 km")
    _question(page, flow, "essay").get_by_role("textbox").fill(f"An essay by {name}.")


def test_students_take_the_quiz_and_hand_the_assignment_in(flow: Flow) -> None:
    for name, person in flow.students.items():
        page = person.page
        log_in(person, f"/courses/{flow.course_id}/quizzes/{flow.quiz_id}")
        expect(page.get_by_role("heading", name="Midterm")).to_be_visible()
        page.get_by_test_id("start").click()
        expect(page.get_by_test_id("timer")).to_contain_text("Time left")
        _fill(page, flow, name)
        expect(page.get_by_test_id("save-status")).to_have_text("All answers saved")
        page.get_by_test_id("submit").click()
        expect(page.get_by_test_id("submitted")).to_have_text("Your quiz is submitted.")
        # Results are released by hand: no score yet.
        expect(page.get_by_test_id("score")).to_have_count(0)
        page.goto(f"/courses/{flow.course_id}/assignments/{flow.assignment_id}")
        expect(page.get_by_role("heading", name="Lab essay")).to_be_visible()
        page.get_by_label("Your answer (Markdown)").fill(f"Lab essay by {name}")
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_test_id("history").locator("li")).to_have_count(1)
    attempts = flow.call("GET", f"/api/v1/quizzes/{flow.quiz_id}/attempts")["items"]
    assert len(attempts) == 3
    by_user = {a["user_id"]: a for a in attempts}
    for name, person in flow.students.items():
        attempt = flow.call(
            "GET", f"/api/v1/attempts/{by_user[flow.node.user_id(person.email)]['id']}"
        )
        assert attempt["score"] == pytest.approx(AUTO[name]), name
        assert attempt["points"] == pytest.approx(QUIZ_POINTS)
        essay = attempt["results"][flow.questions["essay"]]
        assert essay["status"] == "manual", name


def test_the_instructor_grades_by_hand_and_with_the_rubric(flow: Flow) -> None:
    page = flow.teacher.page
    log_in(flow.teacher, f"/courses/{flow.course_id}/quizzes/{flow.quiz_id}/results")
    expect(page.get_by_role("heading", name="Results of Midterm")).to_be_visible()
    for number in range(1, len(flow.students) + 1):
        form = page.get_by_role("form", name=f"essay: answer {number}")
        form.get_by_label(f"Score (out of {POINTS})").fill(str(ESSAY_SCORE))
        form.get_by_role("button", name="Save the grade").click()
        expect(form.get_by_role("status")).to_have_text("Grade saved")
    for name in flow.students:
        page.goto(f"/courses/{flow.course_id}/assignments/{flow.assignment_id}/grading")
        table = page.get_by_test_id("grading-table")
        table.get_by_role("button", name=name).click()
        expect(page.locator("#learner-heading")).to_have_text(name)
        panel = page.get_by_test_id("grading-panel")
        expect(panel.get_by_test_id("submission")).to_contain_text(f"Lab essay by {name}")
        title, points = RUBRIC[GRADE_LEVEL[name]]
        page.get_by_label(f"{title} ({points})").check()
        page.get_by_role("button", name="Submit grade").click()
        expect(page.get_by_test_id("grade-status")).to_have_text(f"Grade saved: {points:.2f}.")
    page.get_by_role("button", name="Post grades").click()
    expect(page.get_by_test_id("announcer")).to_contain_text("Grades posted.")
    flow.call("POST", f"/api/v1/quizzes/{flow.quiz_id}/release")
    # The gradebook posts the quiz's column when it hears of the release (an event).
    # (Its own thread: Playwright's loop runs in this one.)
    waiting = eventually(lambda: _posted(flow), "the quiz column posted", within=30)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, waiting).result()


def _posted(flow: Flow) -> bool:
    path = f"/api/v1/courses/{flow.course_id}/gradebook/history"
    changes = flow.call("GET", path, params={"limit": 100})["items"]
    return bool(sum(c["reason"] == "quiz released" for c in changes) == len(flow.students))


def _quiz_score(name: str, *, regraded: bool) -> float:
    score = AUTO[name] + ESSAY_SCORE
    if regraded and name == "Ada Able":
        return score - POINTS  # True is wrong under the new key
    if regraded and name == "Ben Bright":
        return score + POINTS  # False is right under the new key
    return score


def _check_grades(flow: Flow, *, regraded: bool) -> None:
    """The grid and each student's page show the same scores and final grade, the ones
    computed from the answers."""
    page = flow.teacher.page
    page.goto(f"/courses/{flow.course_id}/gradebook")
    grid = page.get_by_role("grid")
    for name in flow.students:
        quiz = _quiz_score(name, regraded=regraded)
        assignment = RUBRIC[GRADE_LEVEL[name]][1]
        # No groups nor weights: the final grade is points earned over points possible.
        percent = f"{100 * (quiz + assignment) / (QUIZ_POINTS + ASSIGNMENT_POINTS):.2f}%"
        row = grid.get_by_role("row").filter(has_text=name)
        expect(row.get_by_test_id("current")).to_have_text(percent)
        expect(row).to_contain_text(f"{quiz:.2f}")
        expect(row).not_to_contain_text("Not posted")
        student = flow.students[name].page
        student.goto(f"/courses/{flow.course_id}/grades")
        expect(student.get_by_test_id("my-total")).to_contain_text(f"Current grade: {percent}")
        quiz_row = student.get_by_role("row").filter(has_text="Midterm")
        expect(quiz_row).to_contain_text(f"{quiz:.2f} / {QUIZ_POINTS:.2f}")
        assignment_row = student.get_by_role("row").filter(has_text="Lab essay")
        expect(assignment_row).to_contain_text(f"{assignment:.2f} / {ASSIGNMENT_POINTS:.2f}")


def test_the_gradebook_and_each_students_grades_agree(flow: Flow) -> None:
    _check_grades(flow, regraded=False)
    expect_no_violations(flow.teacher.page, "the gradebook grid")
    expect_no_violations(flow.students["Ada Able"].page, "a student's grades")


def test_a_key_change_regrades_only_those_it_concerns(flow: Flow) -> None:
    before = {name: _quiz_score(name, regraded=False) for name in flow.students}
    tf = flow.questions["true_false"]
    changed = flow.call(
        "PUT",
        f"/api/v1/questions/{tf}",
        json={"title": "true_false", "definition": _definition("true_false", answer=False)},
    )
    assert changed["regraded_attempts"] == len(flow.students)  # all were given it
    _check_grades(flow, regraded=True)
    history = flow.call(
        "GET", f"/api/v1/courses/{flow.course_id}/gradebook/history", params={"limit": 100}
    )["items"]
    regrades = [c for c in history if c["reason"] == "regrade: key changed"]
    ids = {name: flow.node.user_id(p.email) for name, p in flow.students.items()}
    moved = {c["student_id"]: c for c in regrades if c["old"] != c["new"]}
    for name, person_id in ids.items():
        after = _quiz_score(name, regraded=True)
        if after == before[name]:
            assert person_id not in moved, name
            continue
        change = moved[person_id]
        assert float(change["old"]["score"]) == pytest.approx(before[name]), name
        assert float(change["new"]["score"]) == pytest.approx(after), name
    # The grid shows the same change in the cell's history.
    page = flow.teacher.page
    page.goto(f"/courses/{flow.course_id}/gradebook")
    ada = page.get_by_role("grid").get_by_role("row").filter(has_text="Ada Able")
    ada.get_by_role("gridcell").first.click()
    details = page.get_by_role("region", name="Ada Able, Midterm")
    details.get_by_role("button", name="History of this grade").click()
    entries = details.get_by_test_id("cell-history").locator("li")
    old, new = before["Ada Able"], _quiz_score("Ada Able", regraded=True)
    regrade = entries.filter(has_text="regrade: key changed")
    expect(regrade).to_have_count(1)
    expect(regrade).to_contain_text(f"{old:.2f} → {new:.2f}")
