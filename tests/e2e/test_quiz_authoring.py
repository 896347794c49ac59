"""Authoring quizzes in real Chromium: an instructor makes a bank, writes one question of
every auto-graded type and an essay in the editor (the server's errors shown beside their
fields), previews one and checks an answer against its key, builds a quiz from them in the
settings page (an accommodation for a student included) and publishes it; the student takes
it on the taking page and gets the expected score. axe-core finds nothing on the bank page,
the editor and the settings page, at desktop size and at 390 px."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person, put_in_order
from playwright.sync_api import Browser, Locator, Page, expect

from kits.nodes import Node

PHONE = {"width": 390, "height": 844}
EDIT_URL = re.compile(r"/questions/[0-9a-f-]{36}/edit$")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


def _choices(page: Page, texts: list[str], correct: list[int]) -> None:
    for index, text in enumerate(texts, start=1):
        if index > 2:
            page.get_by_role("button", name="Add a choice").click()
        page.get_by_label(f"Choice {index}", exact=True).fill(text)
    for index in correct:
        page.get_by_label(f"Choice {index} is correct").check()


def _single(page: Page) -> None:
    _choices(page, ["Newton", "Pascal", "Joule"], [1])


def _multiple(page: Page) -> None:
    _choices(page, ["Mass", "Colour", "Velocity"], [1, 3])


def _true_false(page: Page) -> None:
    page.get_by_label("The statement is").select_option("true")


def _numeric(page: Page) -> None:
    page.get_by_label("Correct value").fill("1.5")
    page.get_by_label("Tolerance", exact=True).fill("0.01")
    page.get_by_label("Unit", exact=True).fill("km")
    page.get_by_label("The student must write the unit").check()


def _short(page: Page) -> None:
    page.get_by_label("Accepted answers").fill("gravity\nweight")


def _blanks(page: Page) -> None:
    page.get_by_label("Text with blanks").fill(
        "Water boils at [[hot]] degrees and its solid is called [[solid]]."
    )
    hot = page.get_by_role("group", name="Blank 1 (hot)")
    hot.get_by_label("Answered by").select_option("numeric")
    hot.get_by_label("Correct value").fill("100")
    hot.get_by_label("Tolerance", exact=True).fill("0.5")
    page.get_by_role("group", name="Blank 2 (solid)").get_by_label("Accepted answers").fill("ice")


def _matching(page: Page) -> None:
    page.get_by_label("Prompt 1").fill("France")
    page.get_by_label("Its match 1").fill("Paris")
    page.get_by_role("button", name="Add a pair").click()
    page.get_by_label("Prompt 2").fill("Italy")
    page.get_by_label("Its match 2").fill("Rome")
    page.get_by_label("Other options (distractors)").fill("Lyon")


def _ordering(page: Page) -> None:
    page.get_by_label("Items in the right order").fill("one\ntwo\nthree")


def _math(page: Page) -> None:
    page.get_by_label("Correct expression").fill("2*x + 1")
    page.get_by_label("Variables").fill("x")


def _essay(page: Page) -> None:
    page.get_by_label("Most words").fill("200")


TYPE_NAMES = {
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "true_false": "True or false",
    "numeric": "Numeric",
    "short_answer": "Short answer",
    "fill_blanks": "Fill in the blanks",
    "matching": "Matching",
    "ordering": "Ordering",
    "math": "Math expression",
    "essay": "Essay",
}
QUESTIONS: list[tuple[str, str, str, Callable[[Page], None]]] = [
    ("single_choice", "Unit of force", "Who names the unit of force?", _single),
    ("multiple_choice", "Vectors", "Pick the vector quantities.", _multiple),
    ("true_false", "Pairs", "Forces come in pairs.", _true_false),
    ("numeric", "Distance", "How far is the station?", _numeric),
    ("short_answer", "Pull", "What pulls the apple down?", _short),
    ("fill_blanks", "Water", "Complete the sentence.", _blanks),
    ("matching", "Capitals", "Match each country to its capital.", _matching),
    ("ordering", "Counting", "Put the numbers in order.", _ordering),
    ("math", "Line", "Write 2x + 1.", _math),
    ("essay", "Explain", "Explain Newton's third law.", _essay),
]


def _author_question(
    page: Page, kind: str, title: str, prompt: str, fill: Callable[[Page], None]
) -> None:
    page.get_by_role("link", name="New question").click()
    expect(page.get_by_role("heading", name="New question")).to_be_visible()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Tags").fill(f"forces, {kind}")
    page.get_by_label("Type", exact=True).select_option(kind)
    page.get_by_label("Prompt (what the student reads)").fill(prompt)
    fill(page)
    page.get_by_test_id("save-question").click()
    expect(page).to_have_url(EDIT_URL)
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    page.get_by_role("link", name="Back to the questions").first.click()
    expect(page.get_by_test_id("questions").get_by_role("link", name=title)).to_be_visible()


def _section(page: Page, prompt: str) -> Locator:
    return page.locator("section.question", has_text=prompt)


def _take(student: Person, course_id: str, quiz_id: str) -> None:
    page = student.page
    expect(page.get_by_role("heading", name="Forces, authored")).to_be_visible()
    page.get_by_test_id("start").click()
    expect(page.get_by_role("navigation", name="Questions")).to_be_visible()
    _section(page, "unit of force").get_by_label("Newton").check()
    vectors = _section(page, "vector quantities")
    vectors.get_by_label("Mass").check()
    vectors.get_by_label("Velocity").check()
    _section(page, "come in pairs").get_by_label("True").check()
    _section(page, "station").get_by_role("textbox").fill("1500 m")
    _section(page, "apple").get_by_role("textbox").fill("Gravity")
    water = _section(page, "Complete the sentence")
    water.get_by_label("Blank 1").fill("100.2")
    water.get_by_label("Blank 2").fill("ice")
    capitals = _section(page, "capital")
    capitals.get_by_label("France").select_option(label="Paris")
    capitals.get_by_label("Italy").select_option(label="Rome")
    ordering = _section(page, "numbers in order")
    put_in_order(ordering, ["one", "two", "three"])
    _section(page, "Write 2x").get_by_role("textbox").fill("1 + 2*x")
    _section(page, "third law").get_by_role("textbox").fill("Every action has a reaction.")
    expect(page.get_by_test_id("save-status")).to_have_text("All answers saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submitted")).to_have_text("Your quiz is submitted.")
    # Nine auto-graded questions right (a point each); the essay waits for a grader.
    expect(page.get_by_test_id("score")).to_have_text("Score: 9 of 10")


def test_an_instructor_authors_a_quiz_a_student_takes(chromium: Browser, sqlite_node: Node) -> None:
    teacher = new_person(chromium, sqlite_node, "Ada Author", "instructor")
    student = new_person(chromium, sqlite_node, "Sam Student")
    token = sqlite_node.login(teacher.email)
    with sqlite_node.client(token) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"AU-{uuid.uuid4().hex[:6]}", "title": "Forces"}
        )
        course_id = made.json()["id"]
        enrolled = client.post(
            f"/api/v1/courses/{course_id}/enrollments",
            json={"email": student.email, "role": "student"},
        )
        assert enrolled.status_code == 201, enrolled.text
    page = teacher.page
    log_in(teacher, f"/courses/{course_id}")
    page.get_by_role("link", name="Questions and quizzes").click()
    expect(page.get_by_role("heading", name="Questions and quizzes")).to_be_visible()
    page.get_by_label("New bank").fill("Mechanics")
    page.get_by_role("button", name="Add the bank").click()
    expect(page.get_by_label("Question bank", exact=True)).to_contain_text("Mechanics")
    expect_no_violations(page, "question bank")

    # The server's errors land beside their fields and are announced.
    page.get_by_role("link", name="New question").click()
    page.get_by_label("Title", exact=True).fill("Broken")
    page.get_by_label("Choice 1", exact=True).fill("Only one")
    page.get_by_test_id("save-question").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("need")
    choice_two = page.get_by_label("Choice 2", exact=True)
    expect(choice_two).to_have_attribute("aria-invalid", "true")
    expect_no_violations(page, "question editor with errors")
    page.get_by_role("link", name="Back to the questions").first.click()

    for kind, title, prompt, fill in QUESTIONS:
        _author_question(page, kind, title, prompt, fill)

    # The preview is the student's view: answer it and check the answer against the key.
    page.get_by_test_id("questions").get_by_role("link", name="Unit of force").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("Who names the unit of force?")
    preview.get_by_label("Newton").check()
    page.get_by_test_id("check-answer").click()
    expect(page.get_by_role("status").filter(has_text="scores")).to_have_text(
        "This answer scores 1 of 1."
    )
    expect_no_violations(page, "question editor")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "question editor on a phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # Filter by tag.
    page.get_by_role("link", name="Back to the questions").first.click()
    page.get_by_label("Tag", exact=True).fill("essay")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("questions").locator("tbody tr")).to_have_count(1)

    # The quiz: refused without a title, then every question, a time limit, published.
    page.get_by_role("link", name="New quiz").click()
    expect(page.get_by_role("heading", name="New quiz")).to_be_visible()
    for kind, title, _prompt, _fill in QUESTIONS:
        shown = f"{title} ({TYPE_NAMES[kind]})"
        page.get_by_label("A question", exact=True).select_option(label=shown)
        page.get_by_role("button", name="Add this question").click()
    expect(page.get_by_test_id("slots").locator("li")).to_have_count(len(QUESTIONS))
    page.get_by_test_id("save-quiz").click()
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Title", exact=True).fill("Forces, authored")
    page.get_by_label("Time limit (minutes)").fill("30")
    page.get_by_label("Published").check()
    expect_no_violations(page, "quiz settings")
    page.get_by_test_id("save-quiz").click()
    expect(page.get_by_role("heading", name="Settings of Forces, authored")).to_be_visible()
    quiz_id = page.url.rsplit("/", 2)[-2]
    page.get_by_label("Extra minutes").fill("10")
    page.get_by_role("button", name="Save the accommodation").click()
    expect(page.get_by_test_id("accommodations")).to_contain_text("Sam Student: 10 extra minutes")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "quiz settings on a phone")

    # Staff opening the learner's page are sent to the results.
    page.goto(f"/courses/{course_id}/quizzes/{quiz_id}")
    expect(page.get_by_test_id("staff-results")).to_be_visible()

    # The course editor puts the quiz in a module (its item kind menu offers quizzes).
    with sqlite_node.client(token) as client:
        week = client.post(
            f"/api/v1/courses/{course_id}/modules", json={"title": "Week 1", "published": True}
        )
        assert week.status_code == 201, week.text
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/courses/{course_id}/edit")
    card = page.locator("li.module").filter(has=page.get_by_role("heading", name="Week 1"))
    card.get_by_text("Add an item to Week 1").click()
    form = card.locator("form.add-item")
    form.get_by_label("Kind").select_option(label="Quiz")
    form.get_by_label("Quiz", exact=True).select_option(label="Forces, authored")
    form.get_by_label("Item title").fill("Forces quiz")
    expect(form.get_by_label("Completed when the learner")).to_have_value("submit")
    form.get_by_role("button", name="Add item").click()
    expect(card.locator("li.item-row", has_text="Forces quiz")).to_have_count(1)

    log_in(student, f"/courses/{course_id}")
    student.page.get_by_role("link", name="Forces quiz").first.click()
    expect(student.page).to_have_url(re.compile(f"/quizzes/{quiz_id}$"))
    _take(student, course_id, quiz_id)
    assert not teacher.errors, teacher.errors
    assert not student.errors, student.errors
    teacher.close()
    student.close()
