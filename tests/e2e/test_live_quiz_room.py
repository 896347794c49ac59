"""A live quiz in a course's class, in Chromium: the host writes two questions and launches
them, two students answer (one on a phone), the host watches the histogram, shows the
answers, each student sees their own score, and the scores land in the course gradebook.
axe checks the quizzes panel for the host and for a student."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from a11ykit import axe_violations, describe, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person, open_browser, shot, side_tab
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kits.nodes import Node, node_sessions
from lms.gradebook import service as gradebook
from persistence.models import GradeScore, LiveQuiz

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Klass:
    course_id: str
    room_id: str
    teacher: Person
    ann: Person
    ben: Person


def _user_id(node: Node, email: str) -> str:
    with node.client(node.login(email)) as client:
        return str(client.get("/api/v1/users/me").json()["id"])


@pytest.fixture(scope="module")
def klass(chromium: Browser, sqlite_node: Node) -> Iterator[Klass]:
    teacher = new_person(chromium, sqlite_node, "Tess Teacher", "instructor")
    ann = new_person(chromium, sqlite_node, "Ann Student")
    ben = new_person(chromium, sqlite_node, "Ben Student")
    ben.context.close()
    ben = open_browser(
        chromium, sqlite_node.url, ben.name, ben.email, viewport=PHONE, has_touch=True
    )
    with sqlite_node.client(sqlite_node.login(teacher.email)) as client:
        body = {"code": f"Q-{uuid.uuid4().hex[:6]}", "title": "Number sense"}
        course_id = client.post("/api/v1/courses", json=body).json()["id"]
        for person in (ann, ben):
            enrolled = client.post(
                f"/api/v1/courses/{course_id}/enrollments",
                json={"email": person.email, "role": "student"},
            )
            assert enrolled.status_code == 201, enrolled.text
        made = client.post("/api/v1/rooms", json={"title": "Fractions", "course_id": course_id})
        assert made.status_code == 201, made.text
        room_id = made.json()["id"]
        for person in (ann, ben):
            member = {"user_id": _user_id(sqlite_node, person.email), "role": "participant"}
            invited = client.post(f"/api/v1/rooms/{room_id}/members", json=member)
            assert invited.status_code == 201, invited.text
    for person in (teacher, ann, ben):
        log_in(person, f"/rooms/{room_id}")
        expect(person.page.locator(".room-title")).to_have_text("Fractions")
        side_tab(person.page, "Quizzes")
    yield Klass(course_id, room_id, teacher, ann, ben)
    for person in (teacher, ann, ben):
        assert not person.errors, f"{person.name}: {person.errors}"
        person.close()


def _axe(page: Page, state: str) -> None:
    found = axe_violations(page, within="section.quizzes")
    assert not found, f"{state}: {describe(found)}"


def _answer(page: Page, choice: str, number: str) -> None:
    quiz = page.get_by_role("article", name="Warm-up")
    expect(quiz).to_be_visible()
    quiz.get_by_label(choice, exact=True).check()
    quiz.get_by_role("button", name="Send answer 1").click()
    expect(quiz.get_by_test_id("quiz-answered")).to_have_count(1)
    quiz.get_by_label("Your answer to question 2").fill(number)
    quiz.get_by_role("button", name="Send answer 2").click()
    expect(quiz.get_by_test_id("quiz-answered")).to_have_count(2)


def test_a_quiz_launched_in_class_reaches_every_student_and_the_gradebook(
    klass: Klass, sqlite_node: Node
) -> None:
    host = klass.teacher.page
    panel = host.locator("section.quizzes")
    panel.get_by_label("Quiz title").fill("Warm-up")
    first = panel.get_by_role("group", name="Question 1")
    first.get_by_label("Question text").fill("Which is a prime?")
    for n, text in enumerate(("4", "7", "9"), start=1):
        first.get_by_label(f"Choice {n}", exact=True).fill(text)
    first.get_by_label("Choice 2 is right").check()
    panel.get_by_role("button", name="Add a question").click()
    second = panel.get_by_role("group", name="Question 2")
    second.get_by_label("Type").select_option(label="A number")
    second.get_by_label("Question text").fill("How many sides has a hexagon?")
    second.get_by_label("Right number").fill("6")
    _axe(host, "the host's new quiz form")
    panel.get_by_role("button", name="Launch the quiz").click()

    # Both students are told and answer; the phone does not scroll sideways.
    for student in (klass.ann, klass.ben):
        expect(
            student.page.get_by_text("Quiz started: Warm-up. Open Quizzes to answer.")
        ).to_be_attached()
    _answer(klass.ann.page, "7", "6")
    _axe(klass.ann.page, "a student who answered")
    _answer(klass.ben.page, "9", "5")
    assert no_horizontal_scroll(klass.ben.page)
    shot(klass.ben.page, "live-quiz-phone")

    # The host's histogram: who picked what, how many were right.
    quiz = host.get_by_role("article", name="Warm-up")
    expect(quiz.get_by_test_id("tally-q1")).to_contain_text("2 answers, 1 right (50%)")
    expect(quiz.get_by_test_id("tally-q1").get_by_role("progressbar", name="7")).to_have_attribute(
        "aria-valuenow", "50"
    )
    expect(quiz.get_by_test_id("tally-q2")).to_contain_text("2 answers, 1 right")
    _axe(host, "the host's live results")
    shot(host, "live-quiz-histogram")

    # Showing the answers: everyone sees the right ones; each student only their score.
    quiz.get_by_role("button", name="Show the answers").click()
    ann = klass.ann.page.get_by_role("article", name="Warm-up")
    expect(ann.get_by_text("Right answer: 7", exact=True)).to_be_visible()
    expect(ann.get_by_test_id("quiz-score")).to_have_text("Your score: 2 of 2")
    ben = klass.ben.page.get_by_role("article", name="Warm-up")
    expect(ben.get_by_test_id("quiz-score")).to_have_text("Your score: 0 of 2")
    expect(ben.get_by_text(re.compile("Right answer: 6"))).to_be_visible()
    _axe(klass.ann.page, "a student after the reveal")

    # To the gradebook.
    quiz.get_by_role("button", name="Send to the gradebook").click()
    expect(quiz.get_by_test_id("quiz-graded")).to_have_text("In the gradebook.")
    # (Playwright's loop runs in this thread: the database is read from another one.)
    with ThreadPoolExecutor(1) as pool:
        scores = pool.submit(asyncio.run, _scores(sqlite_node, klass)).result()
    assert scores == {klass.ann.email: "2.00", klass.ben.email: "0.00"}


async def _scores(node: Node, klass: Klass) -> dict[str, str]:
    """The room's quiz's scores in the gradebook, once the consumer wrote both."""
    ids = {_user_id(node, p.email): p.email for p in (klass.ann, klass.ben)}
    async with node_sessions(node) as sessions:
        for _ in range(300):
            async with sessions() as session:
                quiz = await session.scalar(
                    select(LiveQuiz.id).where(LiveQuiz.room_id == uuid.UUID(klass.room_id))
                )
                assert quiz is not None
                column = await gradebook.column_for(session, source="live_quiz", source_id=quiz)
                if column is not None:
                    rows = await session.scalars(
                        select(GradeScore).where(GradeScore.column_id == column)
                    )
                    found = {ids[str(r.user_id)]: str(r.score) for r in rows}
                    if len(found) == 2:
                        return found
            await asyncio.sleep(0.1)
    raise AssertionError("the scores never reached the gradebook")
