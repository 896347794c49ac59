"""A hands-on lab in real Chromium (issue 20's first "done when"): an instructor and three
learners, each in their own browser context on one node. The lab starts from the live view;
each learner gets their own workspace from the template, types and runs code, and asks for
help; the instructor sees every workspace live in the grid, takes the first request and
answers it by editing in that learner's workspace (the learner sees the edit), broadcasts a
hint (every learner sees it), and a checkpoint the server checks reaches the gradebook.
axe-core finds nothing on the learner's page, the grid and the editor, on desktop and on a
390 px phone, and the learner's page fits the phone's width."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person
from playwright.sync_api import Browser, Page, expect

from kits.labs import lab_body
from kits.nodes import Node, start_node
from kits.sandbox import shared_cache

RIGHT = "def add(a, b):\n    return a + b\n"
CHECK_TIMEOUT_MS = 240_000  # the first check compiles the sandbox's CPython
RUN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def lab_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("node"),
        "sqlite",
        request,
        LIVECLASS_SANDBOX_CACHE_DIR=str(shared_cache(tmp_path_factory)),
        LIVECLASS_SANDBOX_WORKERS="1",
    )


@dataclass
class Lab:
    course_id: str
    lab_id: str
    title: str
    teacher: Person
    learners: list[Person]

    def learner_path(self) -> str:
        return f"/courses/{self.course_id}/labs/{self.lab_id}"


@pytest.fixture(scope="module")
def lab(chromium: Browser, lab_node: Node) -> Iterator[Lab]:
    teacher = new_person(chromium, lab_node, "Ines Instructor", "instructor")
    learners = [
        new_person(chromium, lab_node, name) for name in ("Ada Lovelace", "Bo Chen", "Cy Young")
    ]
    body = lab_body()
    with lab_node.client(lab_node.login(teacher.email)) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"P-{uuid.uuid4().hex[:6]}", "title": "Python"}
        )
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        for person in learners:
            enrolled = client.post(
                f"/api/v1/courses/{course_id}/enrollments",
                json={"email": person.email, "role": "student"},
            )
            assert enrolled.status_code == 201, enrolled.text
        created = client.post(f"/api/v1/courses/{course_id}/labs", json=body)
        assert created.status_code == 201, created.text
    yield Lab(course_id, created.json()["id"], body["title"], teacher, learners)
    for person in (teacher, *learners):
        assert not person.errors, person.errors
        person.close()


def editor_text(page: Page) -> str:
    return str(page.locator("[data-testid=code-editor] .cm-content").first.inner_text())


def test_the_instructor_authors_and_starts_the_lab(lab: Lab) -> None:
    page = lab.teacher.page
    log_in(lab.teacher, f"/courses/{lab.course_id}")
    page.get_by_role("navigation", name="Course tools").get_by_role("link", name="Labs").click()
    expect(page.get_by_role("heading", name="Labs")).to_be_visible()
    card = page.get_by_test_id("lab-card").filter(has_text=lab.title)
    expect(card).to_contain_text("Draft")
    expect_no_violations(page, "a course's labs, staff")
    card.get_by_role("link", name=f"Edit {lab.title}").click()
    expect(page.get_by_role("heading", name=f"Edit lab: {lab.title}")).to_be_visible()
    expect(page.get_by_label("Title of step 1")).to_have_value("Add two numbers")
    expect_no_violations(page, "lab editor")
    page.get_by_role("link", name="Open the live view").click()
    expect(page.get_by_role("heading", name=f"Live view: {lab.title}")).to_be_visible()
    page.get_by_role("button", name="Start the lab").click()
    expect(page.get_by_test_id("lab-status")).to_have_text("Status: running")
    expect(page.get_by_test_id("tile")).to_have_count(3)
    expect_no_violations(page, "lab live view")


def test_learners_work_in_their_own_workspaces_and_ask_for_help(lab: Lab) -> None:
    for number, person in enumerate(lab.learners, start=1):
        page = person.page
        log_in(person, lab.learner_path())
        expect(page.get_by_role("heading", name=lab.title)).to_be_visible()
        expect(page.locator("[data-testid=code-editor] .cm-content")).to_contain_text(
            "def add(a, b):"
        )
        page.locator("[data-testid=code-editor] .cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.insert_text(f"\n# learner {number}\nprint('hi', {number} * 2)\n")
        page.get_by_role("button", name="Run").click()
        # Pyodide loads from the node on the first run (seconds on a busy machine).
        expect(page.get_by_test_id("output")).to_contain_text(
            f"hi {number * 2}", timeout=RUN_TIMEOUT_MS
        )
        page.get_by_label("What are you stuck on? (optional)").fill(f"help me {number}")
        page.get_by_role("button", name="Ask for help").click()
        expect(page.get_by_test_id("queue-position")).to_have_text(
            f"You are number {number} in the help queue."
        )
    # Each has their own copy: nobody sees another's line.
    for number, person in enumerate(lab.learners, start=1):
        text = editor_text(person.page)
        assert f"# learner {number}" in text
        assert all(f"# learner {other}" not in text for other in (1, 2, 3) if other != number)


def test_the_instructor_sees_every_workspace_live_and_helps_in_one(lab: Lab) -> None:
    page = lab.teacher.page
    grid = page.get_by_test_id("grid")
    for number, person in enumerate(lab.learners, start=1):
        tile = grid.get_by_test_id("tile").filter(has=page.get_by_role("heading", name=person.name))
        expect(tile.get_by_test_id("thumbnail")).to_contain_text(f"# learner {number}")
    # The queue in order; taking the first opens that learner's workspace to edit together.
    queue = page.get_by_test_id("help-queue")
    expect(queue.get_by_role("listitem")).to_have_count(3)
    first = lab.learners[0]
    page.get_by_role("button", name=f"Take {first.name}\u2019s request").click()
    panel = page.get_by_test_id("workspace-panel")
    expect(panel.get_by_role("heading", name=f"Workspace of {first.name}")).to_be_visible()
    expect(panel.locator(".cm-content")).to_contain_text("# learner 1")
    panel.locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.insert_text("# instructor: return a + b\n")
    expect(first.page.locator("[data-testid=code-editor] .cm-content")).to_contain_text(
        "# instructor: return a + b"
    )
    # The others moved up the queue, live.
    expect(lab.learners[1].page.get_by_test_id("queue-position")).to_have_text(
        "You are number 1 in the help queue."
    )
    expect(first.page.get_by_test_id("queue-position")).to_have_text(
        "An instructor is looking at your workspace."
    )
    # A hint for everyone.
    page.get_by_label("Message or code").fill("Remember: return, do not print.")
    page.get_by_role("button", name="Send").click()
    for person in lab.learners:
        expect(person.page.get_by_test_id("broadcast")).to_contain_text(
            "Remember: return, do not print."
        )


def test_a_checkpoint_checked_on_the_server_reaches_the_gradebook(lab: Lab, lab_node: Node) -> None:
    person = lab.learners[0]
    page = person.page
    page.locator("[data-testid=code-editor] .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(RIGHT)
    page.get_by_role("button", name="Check step 1").click()
    expect(page.get_by_test_id("output")).to_contain_text(
        "Step 1 passed: it counts.", timeout=CHECK_TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Check step 2")).to_be_visible()
    with httpx.Client(base_url=lab_node.url, timeout=30) as client:
        token = lab_node.login(person.email)
        mine = client.get(
            f"/api/v1/courses/{lab.course_id}/gradebook/mine",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert mine.status_code == 200, mine.text
    column = next(c for c in mine.json()["columns"] if c["column"]["title"] == lab.title)
    assert column["cell"] is not None and float(column["cell"]["score"]) == 3.0
    # The instructor's grid shows the passed check.
    tile = lab.teacher.page.get_by_test_id("tile").filter(
        has=lab.teacher.page.get_by_role("heading", name=person.name)
    )
    expect(tile).to_contain_text("Last check passed")


def test_the_lab_pages_pass_axe_on_desktop_and_on_a_phone(lab: Lab) -> None:
    page = lab.learners[2].page
    expect_no_violations(page, "learner lab page")
    page.goto(f"/courses/{lab.course_id}/labs")
    link = page.get_by_test_id("lab-card").get_by_role("link", name=lab.title)
    expect(page.get_by_test_id("lab-card")).to_contain_text("Running")
    expect_no_violations(page, "a course's labs, learner")
    link.click()
    expect(page.get_by_role("button", name="Run")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Run")).to_be_visible()
    expect_no_violations(page, "learner lab page, phone")
    assert no_horizontal_scroll(page)
    teacher = lab.teacher.page
    teacher.set_viewport_size({"width": 390, "height": 844})
    expect_no_violations(teacher, "lab live view, phone")
    assert no_horizontal_scroll(teacher)
