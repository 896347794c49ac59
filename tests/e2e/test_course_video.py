"""A course video in real Chromium: an instructor's upload is transcoded by the node, a
student opens the video item, hls.js plays it and switches between the 240p and 360p
renditions on request, the played time counts toward the item (the instructor's progress
table shows it), a reload resumes where the student left off; a room recording published
from the recordings page becomes a course video the instructor follows to ready; axe-core
finds nothing."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from a11ykit import expect_no_violations
from browserkit import PASSWORD, Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, Page, expect

from kits.nodes import Node, start_node
from kits.recordings import seed_recording

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them

CLIP_SECONDS = 14.0
NODE_ID = "course-video-node"
PUBLISH_TIMEOUT_MS = 180_000


def _clip(path: Path) -> Path:
    from video.video_kit import clip  # tests/video's clips (tests/ is on sys.path)

    return clip(path, seconds=CLIP_SECONDS, width=640, height=360)


@pytest.fixture(scope="module")
def sqlite_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """The embedded defaults, with a known node id (recordings name the node keeping them)."""
    yield from start_node(
        tmp_path_factory.mktemp("node"), "sqlite", request, LIVECLASS_NODE_ID=NODE_ID
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser("--autoplay-policy=no-user-gesture-required")


@dataclass
class Lesson:
    course_id: str
    item_id: str
    teacher_token: str
    student: Person


def _call(node: Node, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    with node.client(token) as client:
        response = client.request(method, path, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response


@pytest.fixture(scope="module")
def lesson(
    chromium: Browser, sqlite_node: Node, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lesson]:
    _, teacher = sqlite_node.register("instructor")
    student = new_person(chromium, sqlite_node, "Vi Student")
    course = _call(
        sqlite_node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"V-{uuid.uuid4().hex[:6]}", "title": "Film studies"},
    ).json()
    _call(
        sqlite_node,
        teacher,
        "POST",
        f"/api/v1/courses/{course['id']}/enrollments",
        json={"email": student.email, "role": "student"},
    )
    data = _clip(tmp_path_factory.mktemp("clip") / "lecture.mp4").read_bytes()
    name = base64.b64encode(b"lecture.mp4").decode()
    made = _call(
        sqlite_node,
        teacher,
        "POST",
        f"/api/v1/courses/{course['id']}/uploads",
        content=data,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {name}",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    file_id = _call(sqlite_node, teacher, "GET", made.headers["Content-Location"]).json()["id"]
    deadline = time.monotonic() + 240
    while True:
        videos = _call(sqlite_node, teacher, "GET", f"/api/v1/courses/{course['id']}/videos").json()
        ready = [v for v in videos if v["file_id"] == file_id and v["status"] == "ready"]
        if ready:
            break
        assert time.monotonic() < deadline, videos
        time.sleep(0.3)
    module = _call(
        sqlite_node,
        teacher,
        "POST",
        f"/api/v1/courses/{course['id']}/modules",
        json={"title": "Week 1", "published": True},
    ).json()
    item = _call(
        sqlite_node,
        teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={
            "kind": "video",
            "title": "Lecture 1",
            "target_id": ready[0]["id"],
            "published": True,
        },
    ).json()
    yield Lesson(course["id"], item["id"], teacher, student)
    student.close()


def _play_until(page: Page, seconds: float) -> None:
    page.get_by_test_id("player").evaluate("v => { v.muted = true; return v.play() }")
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=player]').currentTime > {seconds}",
        timeout=60_000,
    )


def test_a_student_watches_switching_renditions_and_resumes(
    lesson: Lesson, sqlite_node: Node
) -> None:
    page = lesson.student.page
    log_in(lesson.student, f"/courses/{lesson.course_id}/watch/{lesson.item_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lecture 1")
    player = page.get_by_test_id("player")
    expect(player).to_be_visible()
    quality = page.get_by_label("Quality")
    expect(quality.locator("option")).to_have_count(3)  # Automatic, 240p, 360p
    expect_no_violations(page, "the video page")
    level = page.get_by_test_id("level")
    quality.select_option(label="240p")
    _play_until(page, 2)
    expect(level).to_have_attribute("data-height", "240")
    quality.select_option(label="360p")
    expect(level).to_have_attribute("data-height", "360", timeout=30_000)
    _play_until(page, 7)
    player.evaluate("v => v.pause()")
    shot(page, "course-video")
    # The played time reached the server (the pause sends a heartbeat).
    deadline = time.monotonic() + 30
    while True:
        table = _call(
            sqlite_node, lesson.teacher_token, "GET", f"/api/v1/courses/{lesson.course_id}/progress"
        ).json()
        row = table["learners"][0]["items"].get(lesson.item_id) if table["learners"] else None
        if row and row["watched_share"] >= 0.4:
            break
        assert time.monotonic() < deadline, table
        time.sleep(0.2)
    assert row["position"] > 5
    # A reload resumes where the student stopped.
    page.reload()
    expect(page.get_by_test_id("announcer")).to_contain_text("Resuming where you left off")
    resumed = page.get_by_test_id("player").evaluate("v => v.currentTime")
    assert resumed == pytest.approx(row["position"], abs=1.5)


def test_the_editor_adds_a_pdf_and_a_video_that_a_student_opens(
    chromium: Browser, lesson: Lesson, sqlite_node: Node
) -> None:
    teacher = new_person(chromium, sqlite_node, "Ted Teacher", "instructor")
    path = f"/api/v1/courses/{lesson.course_id}/enrollments"
    _call(
        sqlite_node,
        lesson.teacher_token,
        "POST",
        path,
        json={"email": teacher.email, "role": "instructor"},
    )
    pdf = b"%PDF-1.7\n" + b"reading list\n" * 500 + b"%%EOF\n"
    name = base64.b64encode(b"handout.pdf").decode()
    _call(
        sqlite_node,
        lesson.teacher_token,
        "POST",
        f"/api/v1/courses/{lesson.course_id}/uploads",
        content=pdf,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(pdf)),
            "Upload-Metadata": f"filename {name}",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    page = teacher.page
    log_in(teacher, f"/courses/{lesson.course_id}")
    card = page.locator("li", has=page.get_by_text("Add an item to Week 1")).first
    for kind, title, picker, choice in (
        ("File", "Handout", "File", "handout.pdf"),
        ("Video", "Lecture 2", "Video", "lecture"),
    ):
        summary = page.get_by_text("Add an item to Week 1")
        form = card.locator("form.add-item")
        if form.is_hidden():
            summary.click()
        form.get_by_label("Kind").select_option(label=kind)
        form.get_by_label("Item title").fill(title)
        form.get_by_label(picker, exact=True).select_option(label=choice)
        form.get_by_role("button", name="Add item").click()
        expect(page.locator(".item-title", has_text=title)).to_have_count(1)
    expect_no_violations(page, "the module editor with file and video items")
    teacher.close()

    student = lesson.student.page
    student.goto(f"/courses/{lesson.course_id}")
    with student.expect_download() as downloading:
        student.get_by_role("button", name="Handout").click()
    assert downloading.value.path().read_bytes() == pdf
    student.get_by_role("link", name="Lecture 2").click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Lecture 2")
    expect(student.get_by_test_id("player")).to_be_visible()


def test_an_item_is_renamed_and_its_requirement_changed_in_the_editor(
    chromium: Browser, lesson: Lesson, sqlite_node: Node
) -> None:
    teacher = new_person(chromium, sqlite_node, "Ria Teacher", "instructor")
    path = f"/api/v1/courses/{lesson.course_id}/enrollments"
    _call(
        sqlite_node,
        lesson.teacher_token,
        "POST",
        path,
        json={"email": teacher.email, "role": "instructor"},
    )
    page = teacher.page
    log_in(teacher, f"/courses/{lesson.course_id}")
    page.get_by_text("Settings of Lecture 1").click()
    form = page.locator(f"#ititle-{lesson.item_id}").locator("xpath=ancestor::form")
    form.get_by_label("Item title").fill("Lecture 1: cells")
    form.get_by_label("Completed when the learner").select_option(label="marks it as done")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".item-title", has_text="Lecture 1: cells")).to_have_count(1)
    expect_no_violations(page, "an item's settings")
    teacher.close()
    content = _call(
        sqlite_node, lesson.teacher_token, "GET", f"/api/v1/courses/{lesson.course_id}/content"
    ).json()
    item = next(i for m in content["modules"] for i in m["items"] if i["id"] == lesson.item_id)
    assert (item["title"], item["requirement"]) == ("Lecture 1: cells", "mark_done")


def test_a_room_recording_is_published_as_a_course_video(
    chromium: Browser, sqlite_node: Node
) -> None:
    teacher = new_person(chromium, sqlite_node, "Oz Teacher", "instructor")
    signed = httpx.post(
        sqlite_node.url + "/api/v1/auth/token",
        data={"username": teacher.email, "password": PASSWORD},
        timeout=30,
    )
    token = signed.json()["access_token"]
    me = _call(sqlite_node, token, "GET", "/api/v1/users/me").json()["id"]
    course = _call(
        sqlite_node,
        token,
        "POST",
        "/api/v1/courses",
        json={"code": f"P-{uuid.uuid4().hex[:6]}", "title": "Recorded lessons"},
    ).json()
    room = _call(
        sqlite_node,
        token,
        "POST",
        "/api/v1/rooms",
        json={"title": "Thursday lab", "course_id": course["id"]},
    ).json()
    seed_recording(sqlite_node, room["id"], me, node_id=NODE_ID)
    page = teacher.page
    log_in(teacher, f"/rooms/{room['id']}/recordings")
    publish = page.get_by_role("button", name="Publish as a course video")
    expect(publish).to_have_count(1)
    publish.click()
    status = page.get_by_test_id("publish-status")
    expect(status).to_contain_text("Thursday lab")
    expect(status).to_contain_text("is ready", timeout=PUBLISH_TIMEOUT_MS)
    expect_no_violations(page, "a published recording")
    videos = _call(sqlite_node, token, "GET", f"/api/v1/courses/{course['id']}/videos").json()
    listed = videos["items"] if isinstance(videos, dict) else videos
    assert [v["status"] for v in listed] == ["ready"], listed
    status.get_by_role("link", name="Add it to a module on the course page").click()
    expect(page).to_have_url(f"{sqlite_node.url}/courses/{course['id']}")
    assert not teacher.errors, teacher.errors
    teacher.close()
