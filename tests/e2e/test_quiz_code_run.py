"""The quiz page's "Run" button for Python code questions, in real Chromium against a node
with the real sandbox: the learner's code runs on the server against the visible examples
only (the hidden test's name and source never reach the page), the verdicts and output
appear in a live region, nothing is saved or graded by a run, and the server's throttle
shows as a wait message. axe-core finds nothing, on desktop and at 390 px."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import launch_browser, log_in, new_person
from playwright.sync_api import Browser, expect

from kits.nodes import Node, start_node
from kits.sandbox import shared_cache

PHONE = {"width": 390, "height": 844}
RIGHT = "def add(a, b):\n    print('adding', a, b)\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def run_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("node"),
        "sqlite",
        request,
        LIVECLASS_SANDBOX_CACHE_DIR=str(shared_cache(tmp_path_factory)),
        LIVECLASS_SANDBOX_WORKERS="1",
        LIVECLASS_SANDBOX_PRACTICE_BURST="2",
        LIVECLASS_SANDBOX_PRACTICE_RUNS_PER_MINUTE="0.001",  # no refill while the test runs
    )


def _call(node: Node, token: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(token) as client:
        response = client.request(method, path, **kw)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_a_learner_runs_code_against_the_visible_examples(
    chromium: Browser, run_node: Node
) -> None:
    _, teacher = run_node.register("instructor")
    course = _call(
        run_node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"RUN-{uuid.uuid4().hex[:6]}", "title": "Python"},
    )["id"]
    bank = _call(
        run_node, teacher, "POST", f"/api/v1/courses/{course}/question-banks", json={"title": "B"}
    )["id"]
    definition = {
        "type": "python_code",
        "prompt": "Write add(a, b).",
        "points": 4,
        "starter_code": "def add(a, b):\n    pass\n",
        "tests": [
            {
                "id": "t1",
                "name": "adds small numbers",
                "source": "assert add(1, 2) == 3",
                "hidden": False,
            },
            {
                "id": "t2",
                "name": "HIDDENNAME",
                "source": "assert add(HIDDENSRC, 1) == 0",
                "hidden": True,
            },
        ],
        "limits": {"wall_ms": 3000, "memory_mb": 64},
    }
    question = _call(
        run_node,
        teacher,
        "POST",
        f"/api/v1/question-banks/{bank}/questions",
        json={"title": "add", "definition": definition},
    )["id"]
    quiz = _call(
        run_node,
        teacher,
        "POST",
        f"/api/v1/courses/{course}/quizzes",
        json={"title": "Code quiz", "published": True, "slots": [{"question_id": question}]},
    )["id"]
    student = new_person(chromium, run_node, "Ada Student")
    _call(
        run_node,
        teacher,
        "POST",
        f"/api/v1/courses/{course}/enrollments",
        json={"email": student.email, "role": "student"},
    )
    page = student.page
    log_in(student, f"/courses/{course}/quizzes/{quiz}")
    page.get_by_test_id("start").click()
    section = page.locator(f"section[data-question='{question}']")
    section.get_by_text("1 example test").click()  # the visible example, opened
    expect(section.get_by_text("assert add(1, 2) == 3")).to_be_visible()
    expect(section).to_contain_text("1 more test is run when you submit")
    section.get_by_role("textbox").fill(WRONG)
    run = section.get_by_role("button", name="Run the code of question 1")
    run.focus()
    page.keyboard.press("Enter")  # the keyboard runs it
    result = section.get_by_test_id("run-result")
    expect(result).to_have_attribute("role", "status")
    # The first run may wait for the sandbox to compile CPython (shared cache, 10-30 s of CPU).
    expect(section.get_by_test_id("run-status")).to_have_text(
        "Ran: 0 of 1 example tests passed.", timeout=240_000
    )
    expect(result.get_by_role("list", name="Example tests")).to_contain_text(
        "Failed: adds small numbers"
    )
    section.get_by_role("textbox").fill(RIGHT)
    run.click()
    expect(section.get_by_test_id("run-status")).to_have_text("Ran: 1 of 1 example tests passed.")
    expect(section.get_by_test_id("run-output")).to_contain_text("adding 1 2")
    assert "HIDDEN" not in page.content()  # the hidden test never reaches the browser
    expect_no_violations(page, "a code question after a run")
    # The third run of a burst of two is throttled: the page says how long to wait.
    run.click()
    expect(result).to_contain_text("Too many runs: try again in")
    expect(run).to_be_enabled()
    # A run neither submitted nor graded the attempt.
    items = _call(run_node, teacher, "GET", f"/api/v1/quizzes/{quiz}/attempts")["items"]
    assert [item["status"] for item in items] == ["active"]
    assert items[0]["score"] is None
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)
    expect_no_violations(page, "a code question on a phone")
    assert not student.errors, student.errors
    student.close()
