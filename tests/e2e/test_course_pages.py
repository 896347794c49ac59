"""The course pages in real Chromium: an instructor builds a course in the browser (modules,
a page written in the collaborative page editor and published, link items, items and
modules reordered by drag and drop and by keyboard alone), a student works through it
(reads the sanitized page, marks it done, the next module unlocks through its prerequisite)
and the instructor sees the student's progress in the table. axe-core finds nothing on
every page, on desktop and on a phone, and the pages fit a phone's width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from a11ykit import (
    expect_no_violations,
    focused,
    no_horizontal_scroll,
    tab_until,
    wider_than_viewport,
)
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, Locator, Page, ViewportSize, WebSocketRoute, expect

from kits.nodes import Node

PHONE: ViewportSize = {"width": 375, "height": 740}
NARROWEST: ViewportSize = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
ANNOUNCER = "announcer"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Course:
    id: str
    title: str
    teacher: Person
    coteacher: Person
    student: Person
    ta: Person
    student2: Person


@pytest.fixture(scope="module")
def course(chromium: Browser, sqlite_node: Node) -> Iterator[Course]:
    teacher = new_person(chromium, sqlite_node, "Ines Instructor", "instructor")
    coteacher = new_person(chromium, sqlite_node, "Cora Coteacher", "instructor")
    student = new_person(chromium, sqlite_node, "Sol Student")
    ta = new_person(chromium, sqlite_node, "Tara Assistant")
    student2 = new_person(chromium, sqlite_node, "Uma Learner")
    title = "Botany"
    with sqlite_node.client(sqlite_node.login(teacher.email)) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"B-{uuid.uuid4().hex[:6]}", "title": title}
        )
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        enrolments = (
            (coteacher, "instructor"),
            (student, "student"),
            (ta, "ta"),
            (student2, "student"),
        )
        for person, role in enrolments:
            enrolled = client.post(
                f"/api/v1/courses/{course_id}/enrollments",
                json={"email": person.email, "role": role},
            )
            assert enrolled.status_code == 201, enrolled.text
    yield Course(course_id, title, teacher, coteacher, student, ta, student2)
    for person in (teacher, coteacher, student, ta, student2):
        assert not person.errors, person.errors
        person.close()


def content(node: Node, course: Course) -> dict[str, Any]:
    with node.client(node.login(course.teacher.email)) as client:
        found = client.get(f"/api/v1/courses/{course.id}/content")
        assert found.status_code == 200, found.text
        return dict(found.json())


def titles(node: Node, course: Course) -> list[list[str]]:
    return [
        [m["title"], *[i["title"] for i in m["items"]]] for m in content(node, course)["modules"]
    ]


def module_card(page: Page, title: str) -> Locator:
    return page.locator("li.module").filter(has=page.get_by_role("heading", name=title, exact=True))


def item_row(page: Page, title: str) -> Locator:
    return page.locator("li.item-row").filter(has=page.locator(".item-title", has_text=title))


def add_item(page: Page, module: str, kind: str, title: str, **fields: str) -> None:
    card = module_card(page, module)
    summary = card.get_by_text(f"Add an item to {module}")
    if card.locator("form.add-item").is_hidden():
        summary.click()
    form = card.locator("form.add-item")
    form.get_by_label("Kind").select_option(label=kind)
    form.get_by_label("Item title").fill(title)
    if "url" in fields:
        form.get_by_label("Address (https://…)").fill(fields["url"])
    if "requirement" in fields:
        form.get_by_label("Completed when the learner").select_option(label=fields["requirement"])
    form.get_by_role("button", name="Add item").click()
    expect(item_row(page, title)).to_have_count(1)


def announced(page: Page, text: str) -> None:
    expect(page.get_by_test_id(ANNOUNCER)).to_contain_text(text)


def fits_phone(page: Page, state: str) -> None:
    page.set_viewport_size(NARROWEST)
    assert no_horizontal_scroll(page), f"{state} at 320 px: {wider_than_viewport(page)}"
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page), f"{state}: {wider_than_viewport(page)}"
    expect_no_violations(page, f"{state} on a phone")
    page.set_viewport_size(DESKTOP)


def test_an_instructor_builds_a_course_a_student_works_through_it(
    course: Course, sqlite_node: Node
) -> None:
    page = course.teacher.page
    log_in(course.teacher, "/")
    # The course is listed on the home page, with a link to its page.
    page.get_by_role("link", name=course.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(course.title)
    expect(page.get_by_text("No modules yet.")).to_be_visible()

    # Two modules, added and published.
    for name in ("Week 1", "Week 2"):
        page.get_by_label("New module title").fill(name)
        page.get_by_role("button", name="Add module").click()
        expect(module_card(page, name)).to_have_count(1)
        announced(page, f"Module {name} added.")
        module_card(page, name).get_by_role("button", name=f"Publish {name}").click()
        expect(
            module_card(page, name).get_by_role("button", name=f"Unpublish {name}")
        ).to_be_visible()

    # Modules reorder by drag and drop (Week 2 onto Week 1), then back with the keyboard.
    module_card(page, "Week 2").locator(".module-head").drag_to(
        module_card(page, "Week 1").locator(".module-head")
    )
    announced(page, "Moved module Week 2 to position 1 of 2")
    assert [m[0] for m in titles(sqlite_node, course)] == ["Week 2", "Week 1"]
    down = page.get_by_role("button", name="Move down: module Week 2")
    down.focus()
    page.keyboard.press("Enter")
    announced(page, "Moved module Week 2 to position 2 of 2")
    assert [m[0] for m in titles(sqlite_node, course)] == ["Week 1", "Week 2"]
    expect(page.get_by_role("button", name="Move up: module Week 2")).to_be_focused()

    # Week 2 needs Week 1 first.
    week2 = module_card(page, "Week 2")
    week2.get_by_text("Settings of Week 2").click()
    week2.get_by_label("Week 1").check()
    week2.get_by_role("button", name="Save").click()
    announced(page, "Week 2 saved.")
    expect(module_card(page, "Week 2")).to_contain_text("Requires Week 1")

    # Items: a page to mark as done, two links; a link in Week 2.
    add_item(page, "Week 1", "Page", "Welcome", requirement="marks it as done")
    add_item(page, "Week 1", "Link", "Reading list", url="https://example.org/reading")
    add_item(page, "Week 1", "Link", "Glossary", url="https://example.org/glossary")
    add_item(page, "Week 2", "Link", "Week 2 intro", url="https://example.org/intro")
    assert titles(sqlite_node, course) == [
        ["Week 1", "Welcome", "Reading list", "Glossary"],
        ["Week 2", "Week 2 intro"],
    ]

    # Drag and drop (the open forms folded first, so both modules are in view).
    while page.locator("details[open]").count():
        page.locator("details[open] > summary").first.click()
    expect(page.locator("details[open]")).to_have_count(0)
    # Glossary onto the top half of Welcome goes first.
    glossary, welcome = item_row(page, "Glossary"), item_row(page, "Welcome")
    glossary.drag_to(welcome, source_position={"x": 8, "y": 12}, target_position={"x": 8, "y": 2})
    announced(page, "Moved Glossary to position 1 of 3 in Week 1")
    assert titles(sqlite_node, course)[0] == ["Week 1", "Glossary", "Welcome", "Reading list"]
    # ...and into the other module, dropped on its list.
    item_row(page, "Reading list").drag_to(
        item_row(page, "Week 2 intro"),
        source_position={"x": 8, "y": 12},
        target_position={"x": 8, "y": 2},
    )
    announced(page, "Moved Reading list to position 1 of 2 in Week 2")
    assert titles(sqlite_node, course) == [
        ["Week 1", "Glossary", "Welcome"],
        ["Week 2", "Reading list", "Week 2 intro"],
    ]

    # Keyboard alone: Tab to "Move up: Reading list", Enter moves it over the module's edge,
    # focus stays on the button; then Glossary goes down to the end with Space.
    page.get_by_role("heading", level=1).focus()
    tab_until(page, lambda f: f.get("name") == "Move up: Reading list", limit=80)
    page.keyboard.press("Enter")
    announced(page, "Moved Reading list to position 3 of 3 in Week 1")
    assert focused(page).get("name") == "Move up: Reading list"
    page.get_by_role("button", name="Move down: Glossary").focus()
    page.keyboard.press("Space")
    announced(page, "Moved Glossary to position 2 of 3 in Week 1")
    assert focused(page).get("name") == "Move down: Glossary"
    page.keyboard.press("Space")
    announced(page, "Moved Glossary to position 3 of 3 in Week 1")
    assert titles(sqlite_node, course) == [
        ["Week 1", "Welcome", "Reading list", "Glossary"],
        ["Week 2", "Week 2 intro"],
    ]
    expect_no_violations(page, "the module editor")
    shot(page, "course-editor")
    fits_phone(page, "the module editor")

    # The page editor: the co-instructor is there too; the instructor writes and publishes.
    page.get_by_role("link", name="Edit page Welcome").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit: Welcome")
    editor_url = page.url
    co = course.coteacher
    log_in(co, re.sub(r"^https?://[^/]+", "", editor_url))
    expect(co.page.get_by_role("heading", level=1)).to_have_text("Edit: Welcome")
    expect(page.get_by_test_id("co-editors")).to_have_text("Also editing: Cora Coteacher")
    text = page.get_by_role("textbox", name="Page text (Markdown)")
    text.click()
    page.keyboard.type(
        "## Hello plants\n\nLeaves are **green**. <script>window.pwned=1</script>\n\n"
    )
    page.keyboard.type('<img src="x" onerror="window.pwned=1"> [bad](javascript:alert(1))\n')
    # The co-instructor sees the words arrive live.
    expect(co.page.get_by_role("textbox", name="Page text (Markdown)")).to_contain_text(
        "Leaves are **green**."
    )
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published-status")).to_contain_text("Published at")
    expect_no_violations(page, "the page editor")
    shot(page, "page-editor")
    fits_phone(page, "the page editor")
    co.page.goto("/")

    # The student: the course home, Week 2 locked until Week 1 is complete.
    student = course.student
    spage = student.page
    student.context.route(
        "https://example.org/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<title>x</title>"),
    )
    log_in(student, f"/courses/{course.id}")
    expect(spage.get_by_role("heading", level=1)).to_have_text(course.title)
    bar = spage.get_by_role("progressbar", name="Course progress")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    week2_card = spage.locator("section.module").filter(has_text="Week 2 intro")
    expect(week2_card.get_by_test_id("lock-reason")).to_contain_text("Complete Week 1 first")
    expect(week2_card.get_by_role("link", name="Week 2 intro")).to_have_count(0)
    expect_no_violations(spage, "the course home")
    fits_phone(spage, "the course home")
    shot(spage, "course-home")

    spage.get_by_role("link", name="Continue: Welcome").click()
    expect(spage.get_by_role("heading", level=1)).to_have_text("Welcome")
    article = spage.locator("article.page-body")
    expect(article.get_by_role("heading", name="Hello plants", level=2)).to_be_visible()
    expect(article.locator("strong")).to_have_text("green")
    assert article.locator("script, [onerror]").count() == 0
    assert article.locator("a[href^='javascript']").count() == 0
    assert spage.evaluate("window.pwned") is None
    expect_no_violations(spage, "the reading view")
    fits_phone(spage, "the reading view")
    spage.get_by_role("button", name="Mark as done").click()
    expect(spage.get_by_test_id("page-done")).to_have_text("✓ Done")
    announced(spage, "Welcome marked as done.")
    spage.get_by_role("link", name="Continue in the course").click()

    # Links open in a new tab and count as viewed.
    for name in ("Reading list", "Glossary"):
        with student.context.expect_page() as opened:
            spage.get_by_role("link", name=re.compile(f"^{name}")).click()
        opened.value.close()
        expect(item_row(spage, name).get_by_test_id("item-status")).to_have_text("✓ Completed")
    expect(item_row(spage, "Welcome").get_by_test_id("item-status")).to_have_text("✓ Completed")
    spage.reload()
    week2_card = spage.locator("section.module").filter(has_text="Week 2 intro")
    expect(week2_card.get_by_test_id("lock-reason")).to_have_count(0)
    expect(week2_card.get_by_role("link", name=re.compile("^Week 2 intro"))).to_be_visible()
    expect(spage.get_by_role("progressbar", name="Course progress")).to_have_attribute(
        "aria-valuenow", "75"
    )
    expect(spage.get_by_role("link", name="Continue: Week 2 intro")).to_be_visible()

    # The instructor's progress table.
    page.goto(f"/courses/{course.id}")
    page.get_by_role("link", name="Progress").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Progress in {course.title}")
    table = page.get_by_role("table", name="Progress of each learner, by item")
    row = table.get_by_role("row", name=re.compile("Sol Student"))
    expect(row).to_contain_text("75%")
    header = table.locator("thead th")
    expect(header).to_have_text(
        ["Learner", "Course", "Welcome", "Reading list", "Glossary", "Week 2 intro"]
    )
    cells = row.locator("td")
    expect(cells).to_have_text(["75%", "✓ Completed", "✓ Completed", "✓ Completed", "Not started"])
    expect(table.get_by_role("row", name=re.compile("Uma Learner"))).to_contain_text("0%")
    expect(page.get_by_role("button", name="Load more learners")).to_be_hidden()
    expect_no_violations(page, "the progress table")
    shot(page, "course-progress")
    fits_phone(page, "the progress table")


def test_a_student_cannot_see_the_progress_table_or_the_editor(course: Course) -> None:
    spage = course.student.page
    spage.goto(f"/courses/{course.id}/progress")
    expect(spage.get_by_role("alert")).to_be_visible()
    spage.goto(f"/courses/{course.id}")
    expect(spage.get_by_role("heading", level=1)).to_have_text(course.title)
    expect(spage.get_by_role("button", name="Add module")).to_have_count(0)
    expect(spage.get_by_role("button", name=re.compile("^Move up"))).to_have_count(0)


def test_the_progress_table_loads_more_learners(course: Course) -> None:
    page = course.teacher.page
    # One learner a page, so two learners need "Load more".
    page.route(
        re.compile(r"/api/v1/courses/[0-9a-f-]+/progress"),
        lambda route: route.continue_(
            url=route.request.url + ("&" if "?" in route.request.url else "?") + "limit=1"
        ),
    )
    try:
        page.goto(f"/courses/{course.id}/progress")
        rows = page.locator("table.progress-table tbody tr")
        expect(rows).to_have_count(1)
        more = page.get_by_role("button", name="Load more learners")
        more.focus()
        page.keyboard.press("Enter")
        expect(rows).to_have_count(2)
        expect(more).to_be_hidden()
        announced(page, "2 learners shown.")
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        names = sorted(rows.locator("th").all_inner_texts())
        assert names == ["Sol Student", "Uma Learner"]
    finally:
        page.unroute(re.compile(r"/api/v1/courses/[0-9a-f-]+/progress"))


def test_the_page_editor_renews_its_token_and_is_read_only_for_a_ta(
    course: Course, sqlite_node: Node
) -> None:
    with sqlite_node.client(sqlite_node.login(course.teacher.email)) as client:
        made = client.post(f"/api/v1/courses/{course.id}/pages", json={"title": "Glossary page"})
        assert made.status_code == 201, made.text
        page_id = made.json()["id"]
    path = f"/courses/{course.id}/pages/{page_id}/edit"
    page = course.teacher.context.new_page()  # its own tab: the socket route stays in it
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/yjs/courses/"), through)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit: Glossary page")
    expect(page.get_by_test_id("connection")).to_have_text("Connected")
    page.get_by_role("textbox", name="Page text (Markdown)").click()
    page.keyboard.type("Stamen: the pollen-producing organ.\n")
    # The connection drops (as after a laptop sleeps past the token's ten minutes): the
    # editor asks for a fresh token before it connects again.
    sockets[0].close(code=1011, reason="dropped")
    for _ in range(200):
        if len(sockets) >= 2:
            break
        page.wait_for_timeout(50)
    expect(page.get_by_test_id("connection")).to_have_text("Connected")
    assert len(sockets) >= 2
    tokens = [parse_qs(urlparse(ws.url).query)["token"][0] for ws in sockets]
    assert tokens[1] != tokens[0]
    page.keyboard.type("Pistil: the ovule-producing organ.\n")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published-status")).to_contain_text("Published at")
    with sqlite_node.client(sqlite_node.login(course.teacher.email)) as client:
        html = client.get(f"/api/v1/pages/{page_id}").json()["html"]
    assert "Stamen" in html and "Pistil" in html

    # A TA sees the course without the learner's progress, and reads the draft live
    # (from the published page's "Read the draft"), cannot write, has no Publish.
    ta = course.ta
    log_in(ta, f"/courses/{course.id}/pages/{page_id}")
    expect(ta.page.get_by_role("heading", level=1)).to_have_text("Glossary page")
    expect(ta.page.locator("article.page-body")).to_contain_text("Pistil")
    ta.page.get_by_role("link", name="Back to the course").click()
    expect(ta.page.get_by_role("heading", level=1)).to_have_text(course.title)
    expect(ta.page.get_by_role("progressbar")).to_have_count(0)
    expect(ta.page.get_by_role("link", name="Progress")).to_be_visible()
    ta.page.go_back()
    ta.page.get_by_role("link", name="Read the draft").click()
    expect(ta.page.get_by_role("heading", level=1)).to_have_text("Edit: Glossary page")
    text = ta.page.get_by_role("textbox", name="Page text (Markdown)")
    expect(text).to_contain_text("Pistil")
    expect(ta.page.get_by_test_id("notes-readonly")).to_be_visible()
    expect(ta.page.get_by_role("button", name="Publish")).to_have_count(0)
    text.click()
    ta.page.keyboard.type("TA was here")
    expect(text).not_to_contain_text("TA was here")
    expect_no_violations(ta.page, "the page editor, read-only")
    page.close()


def test_a_module_renamed_and_locked_until_a_date(course: Course) -> None:
    page = course.teacher.page
    page.goto(f"/courses/{course.id}/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text(course.title)
    page.get_by_label("New module title").fill("Later")
    page.get_by_role("button", name="Add module").click()
    card = module_card(page, "Later")
    card.get_by_role("button", name="Publish Later").click()
    expect(card.get_by_role("button", name="Unpublish Later")).to_be_visible()
    card.get_by_text("Settings of Later").click()
    card.get_by_label("Module title").fill("Field trip")
    card.get_by_label("Unlocks on (optional)").fill("2031-05-04T09:30")
    card.get_by_role("button", name="Save").click()
    announced(page, "Field trip saved.")
    trip = module_card(page, "Field trip")
    expect(trip).to_contain_text("Unlocks")
    expect(trip).to_contain_text("2031")
    add_item(page, "Field trip", "Link", "Meeting point", url="https://example.org/meet")

    spage = course.student.page
    spage.goto(f"/courses/{course.id}")
    locked = spage.locator("section.module").filter(has_text="Meeting point")
    expect(locked.get_by_test_id("lock-reason")).to_contain_text("Locked: opens")
    expect(locked.get_by_test_id("lock-reason")).to_contain_text("2031")
    expect(locked.get_by_role("link", name=re.compile("^Meeting point"))).to_have_count(0)
    expect_no_violations(spage, "the course home with a module locked until a date")
