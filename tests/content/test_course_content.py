"""Course content on a real node: modules and items, drag-and-drop order, prerequisites
and unlock dates, pages written together with stock Yjs clients and published as sanitized
HTML, learner progress from video heartbeats, the instructors' progress table, and copy."""

from __future__ import annotations

import asyncio
import base64
import functools
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from kits.nodes import Node
from kits.rooms import ws_base
from kits.yjs import NodeClients, RawClient
from realtime.yjs.messages import SyncStep2, encode_sync_step1

pytestmark = pytest.mark.postgres


class Course:
    """A course with an instructor, a TA, two students and an outsider."""

    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        ta_email, self.ta = node.register()
        s1_email, self.student = node.register()
        s2_email, self.student2 = node.register()
        _, self.outsider = node.register()
        code = f"C-{uuid.uuid4().hex[:8]}"
        created = self.call(
            self.teacher, "POST", "/api/v1/courses", json={"code": code, "title": "Biology"}
        )
        self.id = created["id"]
        for email, role in ((ta_email, "ta"), (s1_email, "student"), (s2_email, "student")):
            self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": role},
            )

    def request(self, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def module(self, title: str, **fields: Any) -> dict[str, Any]:
        body = {"title": title, "published": True, **fields}
        return dict(
            self.call(self.teacher, "POST", f"/api/v1/courses/{self.id}/modules", json=body)
        )

    def item(self, module_id: str, **fields: Any) -> dict[str, Any]:
        body = {"published": True, **fields}
        return dict(
            self.call(self.teacher, "POST", f"/api/v1/modules/{module_id}/items", json=body)
        )

    def link(self, module_id: str, title: str, **fields: Any) -> dict[str, Any]:
        return self.item(module_id, kind="link", title=title, url="https://example.org/", **fields)

    def content(self, token: str) -> dict[str, Any]:
        return dict(self.call(token, "GET", f"/api/v1/courses/{self.id}/content"))


@pytest.fixture
def course(node: Node) -> Course:
    return Course(node)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _markup(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The tags and attributes a browser would build from `html`."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _titles(content: dict[str, Any]) -> list[list[str]]:
    return [[m["title"], *[i["title"] for i in m["items"]]] for m in content["modules"]]


def test_modules_and_items_keep_the_order_set_by_drag_and_drop(course: Course) -> None:
    first, second = course.module("Cells"), course.module("Genetics")
    a = course.link(first["id"], "A")
    b = course.link(first["id"], "B")
    c = course.link(second["id"], "C")
    assert _titles(course.content(course.teacher)) == [["Cells", "A", "B"], ["Genetics", "C"]]
    # B moves to the top of the second module, then the modules swap.
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/items/{b['id']}/move",
        json={"module_id": second["id"], "position": 0},
    )
    order = {"ids": [second["id"], first["id"]]}
    course.call(course.teacher, "PUT", f"/api/v1/courses/{course.id}/modules/order", json=order)
    shown = course.content(course.student)
    assert _titles(shown) == [["Genetics", "B", "C"], ["Cells", "A"]]
    assert [[i["position"] for i in m["items"]] for m in shown["modules"]] == [[0, 1], [0]]
    # An order that leaves a module out, or names one twice, changes nothing.
    for ids in ([first["id"]], [first["id"], first["id"]], [first["id"], str(uuid.uuid4())]):
        bad = course.request(
            course.teacher, "PUT", f"/api/v1/courses/{course.id}/modules/order", json={"ids": ids}
        )
        assert bad.status_code == 422, bad.text
    assert _titles(course.content(course.student)) == [["Genetics", "B", "C"], ["Cells", "A"]]
    # Only the instructor edits; the TA and students cannot.
    for token in (course.ta, course.student):
        denied = course.request(
            token,
            "POST",
            f"/api/v1/items/{c['id']}/move",
            json={"module_id": first["id"], "position": 0},
        )
        assert denied.status_code == 403
        assert course.request(token, "DELETE", f"/api/v1/items/{a['id']}").status_code == 403
    assert (
        course.request(course.outsider, "GET", f"/api/v1/courses/{course.id}/content").status_code
        == 404
    )


def test_drafts_are_for_staff_and_locks_for_learners(course: Course) -> None:
    intro = course.module("Intro")
    intro_item = course.link(intro["id"], "Welcome")
    course.link(intro["id"], "Draft item", published=False)
    later = course.module("Later", unlock_at=(datetime.now(UTC) + timedelta(days=3)).isoformat())
    gated = course.module("Gated", prerequisites=[intro["id"]])
    gated_item = course.link(gated["id"], "Gated item")
    course.module("Hidden", published=False)
    staff = course.content(course.ta)
    assert [m["title"] for m in staff["modules"]] == ["Intro", "Later", "Gated", "Hidden"]
    assert not any(m["locked"] for m in staff["modules"])
    learner = course.content(course.student)
    assert [m["title"] for m in learner["modules"]] == ["Intro", "Later", "Gated"]
    assert [i["title"] for i in learner["modules"][0]["items"]] == ["Welcome"]
    locks = {m["title"]: m["lock_reason"] for m in learner["modules"]}
    assert locks["Intro"] is None
    assert locks["Later"].startswith("Opens ")
    assert locks["Gated"] == "Complete Intro first."
    # A locked item records no progress; completing Intro opens Gated, for this learner only.
    path = f"/api/v1/items/{gated_item['id']}/progress"
    assert course.request(course.student, "POST", path, json={"event": "view"}).status_code == 403
    done = course.call(
        course.student, "POST", f"/api/v1/items/{intro_item['id']}/progress", json={"event": "view"}
    )
    assert done["completed"] is True
    assert course.content(course.student)["modules"][2]["locked"] is False
    assert course.content(course.student2)["modules"][2]["locked"] is True
    # A prerequisite must come earlier: no cycles.
    bad = course.request(
        course.teacher,
        "PATCH",
        f"/api/v1/modules/{intro['id']}",
        json={"prerequisites": [gated["id"]]},
    )
    assert bad.status_code == 422
    swap = course.request(
        course.teacher,
        "PUT",
        f"/api/v1/courses/{course.id}/modules/order",
        json={
            "ids": [
                gated["id"],
                intro["id"],
                later["id"],
                course.content(course.teacher)["modules"][3]["id"],
            ]
        },
    )
    assert swap.status_code == 409


def test_items_point_only_into_their_own_course(course: Course, node: Node) -> None:
    module = course.module("M")
    other = Course(node)
    foreign_page = other.call(
        other.teacher, "POST", f"/api/v1/courses/{other.id}/pages", json={"title": "Theirs"}
    )
    for body in (
        {"kind": "page", "title": "X", "target_id": foreign_page["id"]},
        {"kind": "page", "title": "X"},
        {"kind": "live_session", "title": "X", "target_id": str(uuid.uuid4())},
        {"kind": "link", "title": "X", "url": "javascript:alert(1)"},
        {"kind": "link", "title": "X"},
        {"kind": "link", "title": "", "url": "https://example.org"},
        {"kind": "link", "title": "X" * 201, "url": "https://example.org"},
        {"kind": "link", "title": "X", "url": "https://example.org", "extra": 1},
        {"kind": "quiz", "title": "X"},
    ):
        response = course.request(
            course.teacher, "POST", f"/api/v1/modules/{module['id']}/items", json=body
        )
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert course.content(course.teacher)["modules"][0]["items"] == []
    # Another course's instructor cannot touch this course's structure.
    assert (
        other.request(
            other.teacher,
            "POST",
            f"/api/v1/modules/{module['id']}/items",
            json={"kind": "link", "title": "X", "url": "https://e.org"},
        ).status_code
        == 404
    )


def test_a_page_written_together_is_published_as_safe_html(
    course: Course, node: Node, clients: NodeClients
) -> None:
    page = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/pages",
        json={"title": "Photosynthesis"},
    )
    module = course.module("Plants")
    item = course.item(
        module["id"], kind="page", title="Read: photosynthesis", target_id=page["id"]
    )
    editor = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    assert editor["writable"] is True and editor["document"] == page["document"]
    url = f"{ws_base(node)}/yjs"
    clients.call("open", client="teacher", url=url, room=editor["document"], token=editor["token"])
    clients.wait("teacher", synced=True)
    # The TA opens the same draft read-only and sees the instructor type.
    ta_editor = course.call(course.ta, "POST", f"/api/v1/pages/{page['id']}/editor")
    assert ta_editor["writable"] is False
    clients.call("open", client="ta", url=url, room=ta_editor["document"], token=ta_editor["token"])
    clients.wait("ta", synced=True)
    body = (
        "# Light\n\nPlants <script>alert(1)</script> [click](javascript:alert(2))"
        " <img src=x onerror=alert(3)> ![x](data:image/png;base64,AA==) [ok](https://e.org)\n"
    )
    clients.call("edit", client="teacher", insert=body)
    clients.wait("ta", textIncludes=["# Light"])
    # The TA's typing is dropped by the server, never stored.
    clients.call("edit", client="ta", insert="TA WAS HERE")
    # Not published yet: students cannot read it.
    assert course.request(course.student, "GET", f"/api/v1/pages/{page['id']}").status_code == 404
    published = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/publish")
    html = published["html"]
    assert "<h1>Light</h1>" in html
    # The attacks stayed text or lost their payload; the good link leaves with rel.
    assert _markup(html) == [
        ("h1", []),
        ("p", []),
        ("img", [("alt", "x")]),
        ("a", [("href", "https://e.org"), ("rel", "noopener noreferrer nofollow")]),
    ], html
    # Edits after publishing stay in the draft until the next publish.
    clients.call("edit", client="teacher", insert="\nDraft only.")
    clients.wait("ta", textIncludes=["Draft only."])
    read = course.call(course.student, "GET", f"/api/v1/pages/{page['id']}")
    assert read["html"] == html and read["document"] == ""
    assert "TA WAS HERE" not in html
    # Students get no editor token, and a token does not open another page's document.
    assert (
        course.request(course.student, "POST", f"/api/v1/pages/{page['id']}/editor").status_code
        == 403
    )
    progress = course.call(
        course.student, "POST", f"/api/v1/items/{item['id']}/progress", json={"event": "view"}
    )
    assert progress["completed"] is True


def test_open_page_editors_close_when_their_access_ends(
    course: Course, node: Node, clients: NodeClients
) -> None:
    page = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "P"}
    )
    url = f"{ws_base(node)}/yjs"
    ta = course.call(course.ta, "POST", f"/api/v1/pages/{page['id']}/editor")
    clients.call("open", client="ta-open", url=url, room=ta["document"], token=ta["token"])
    clients.wait("ta-open", synced=True)
    teacher = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    clients.call("open", client="t-open", url=url, room=teacher["document"], token=teacher["token"])
    clients.wait("t-open", synced=True)
    # Removed from the course while editing: the TA's connection closes with 4003 at once.
    ta_id = course.call(course.ta, "GET", "/api/v1/users/me")["id"]
    course.call(course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{ta_id}")
    clients.wait("ta-open", closed=4003)
    # A co-instructor made a TA while editing: 4003, and the next editor token reads only.
    _, co = course.node.register("instructor")
    co_email = course.call(co, "GET", "/api/v1/users/me")["email"]
    enroll = f"/api/v1/courses/{course.id}/enrollments"
    course.call(course.teacher, "POST", enroll, json={"email": co_email, "role": "instructor"})
    co_editor = course.call(co, "POST", f"/api/v1/pages/{page['id']}/editor")
    assert co_editor["writable"] is True
    clients.call(
        "open", client="co-open", url=url, room=co_editor["document"], token=co_editor["token"]
    )
    clients.wait("co-open", synced=True)
    course.call(course.teacher, "POST", enroll, json={"email": co_email, "role": "ta"})
    clients.wait("co-open", closed=4003)
    assert course.call(co, "POST", f"/api/v1/pages/{page['id']}/editor")["writable"] is False
    # Signed out everywhere: the instructor's closes with 4001; the document carries on.
    course.call(course.teacher, "POST", "/api/v1/auth/logout", json={"everywhere": True})
    clients.wait("t-open", closed=4001)


def test_an_editor_token_outlives_no_change_of_role(
    course: Course, node: Node, clients: NodeClients
) -> None:
    page = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "P"}
    )
    editor = course.call(course.ta, "POST", f"/api/v1/pages/{page['id']}/editor")
    ta_id = course.call(course.ta, "GET", "/api/v1/users/me")["id"]
    course.call(course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{ta_id}")
    clients.call(
        "open",
        client="gone",
        url=f"{ws_base(node)}/yjs",
        room=editor["document"],
        token=editor["token"],
    )
    clients.wait("gone", closed=4003)
    # A forged name in the path with a valid token for another document is refused too.
    other = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "Q"}
    )
    mine = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    clients.call(
        "open",
        client="swap",
        url=f"{ws_base(node)}/yjs",
        room=other["document"],
        token=mine["token"],
    )
    clients.wait("swap", closed=4003)


def test_video_progress_counts_what_was_played(course: Course) -> None:
    module = course.module("Lectures")
    page = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "Notes"}
    )
    item = course.item(
        module["id"],
        kind="page",
        title="Lecture notes",
        target_id=page["id"],
        requirement="mark_done",
    )
    path = f"/api/v1/items/{item['id']}/progress"
    viewed = course.call(course.student, "POST", path, json={"event": "view"})
    assert viewed["viewed"] is True and viewed["completed"] is False
    assert (
        course.request(
            course.student,
            "POST",
            path,
            json={"event": "heartbeat", "played": [[0, 5]]},
        ).status_code
        == 422
    )
    done = course.call(course.student, "POST", path, json={"event": "done"})
    assert done["completed"] is True
    for body in (
        {"event": "heartbeat", "played": [[0, 1, 2]]},
        {"event": "heartbeat", "played": [[-1, 2]]},
        {"event": "heartbeat", "played": [[0, 1]] * 51},
        {"event": "skip"},
        {"event": "view", "extra": True},
    ):
        assert course.request(course.student, "POST", path, json=body).status_code == 422, body
    # Staff record no progress.
    assert course.request(course.teacher, "POST", path, json={"event": "view"}).status_code == 403


def test_instructors_see_each_learners_progress_and_home(course: Course) -> None:
    module = course.module("Week 1")
    first = course.link(module["id"], "Read this")
    second = course.link(module["id"], "Then this")
    course.call(
        course.student, "POST", f"/api/v1/items/{first['id']}/progress", json={"event": "view"}
    )
    home = course.call(course.student, "GET", f"/api/v1/courses/{course.id}/home")
    assert home["percent"] == 50.0
    assert home["next"]["item"]["id"] == second["id"]
    table = course.call(course.ta, "GET", f"/api/v1/courses/{course.id}/progress")
    rows = {row["user_id"]: row for row in table["learners"]}
    me = course.call(course.student, "GET", "/api/v1/users/me")["id"]
    other = course.call(course.student2, "GET", "/api/v1/users/me")["id"]
    assert rows[me]["percent"] == 50.0 and rows[me]["items"][first["id"]]["completed"] is True
    assert rows[other]["percent"] == 0.0
    assert (
        course.request(course.student, "GET", f"/api/v1/courses/{course.id}/progress").status_code
        == 403
    )
    bad = course.request(
        course.ta, "GET", f"/api/v1/courses/{course.id}/progress", params={"cursor": "forged"}
    )
    assert bad.status_code == 422
    # One learner a page: the second page follows `next`, and nothing after it.
    path = f"/api/v1/courses/{course.id}/progress"
    page1 = course.call(course.ta, "GET", path, params={"limit": 1})
    page2 = course.call(course.ta, "GET", path, params={"limit": 1, "cursor": page1["next"]})
    assert page2["next"] is None
    paged = [row["user_id"] for row in page1["learners"] + page2["learners"]]
    assert sorted(paged) == sorted(rows)
    for limit in (0, 101):
        refused = course.request(course.ta, "GET", path, params={"limit": limit})
        assert refused.status_code == 422


def test_a_course_copy_has_the_structure_and_pages(
    course: Course, node: Node, clients: NodeClients
) -> None:
    page = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "Syllabus"}
    )
    editor = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    clients.call(
        "open",
        client="w",
        url=f"{ws_base(node)}/yjs",
        room=editor["document"],
        token=editor["token"],
    )
    clients.wait("w", synced=True)
    clients.call("edit", client="w", insert="Week one: cells.")
    course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/publish")
    first = course.module("One")
    second = course.module("Two", prerequisites=[first["id"]])
    course.item(first["id"], kind="page", title="Syllabus", target_id=page["id"])
    course.link(second["id"], "More")
    code = f"C-{uuid.uuid4().hex[:8]}"
    copied = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/copy",
        json={"code": code, "title": "Biology (spring)"},
    )
    new_id = copied["course_id"]
    shown = course.call(course.teacher, "GET", f"/api/v1/courses/{new_id}/content")
    assert _titles(shown) == [["One", "Syllabus"], ["Two", "More"]]
    assert shown["modules"][1]["prerequisites"] == [shown["modules"][0]["id"]]
    new_page_id = shown["modules"][0]["items"][0]["target_id"]
    assert new_page_id != page["id"]
    new_editor = course.call(course.teacher, "POST", f"/api/v1/pages/{new_page_id}/editor")
    clients.call(
        "open",
        client="copy",
        url=f"{ws_base(node)}/yjs",
        room=new_editor["document"],
        token=new_editor["token"],
    )
    clients.wait("copy", textEquals="Week one: cells.")
    # The copy is a draft that nobody else is enrolled in; a student cannot copy.
    assert course.request(course.student, "GET", f"/api/v1/courses/{new_id}").status_code == 404
    again = course.request(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/copy",
        json={"code": code, "title": "Dup"},
    )
    assert again.status_code == 409
    assert (
        course.request(
            course.student,
            "POST",
            f"/api/v1/courses/{course.id}/copy",
            json={"code": "X-1", "title": "Mine"},
        ).status_code
        == 403
    )


def _upload(course: Course, data: bytes, name: str) -> dict[str, Any]:
    """A file uploaded into the course over tus (creation with upload)."""
    name_b64 = base64.b64encode(name.encode()).decode()
    response = course.request(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/uploads",
        content=data,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {name_b64}",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    return dict(course.call(course.teacher, "GET", response.headers["Content-Location"]))


def test_a_file_item_shows_a_file_of_the_course_and_is_copied(course: Course, node: Node) -> None:
    pdf = _upload(course, b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n", "handout.pdf")
    assert pdf["content_type"] == "application/pdf"
    module = course.module("Reading")
    item = course.item(module["id"], kind="file", title="Handout", file_id=pdf["id"])
    assert item["file_id"] == pdf["id"] and item["target_id"] is None
    other = Course(node)
    theirs = _upload(other, b"%PDF-1.4\nother\n%%EOF\n", "theirs.pdf")
    for body in (
        {"kind": "file", "title": "X", "file_id": theirs["id"]},
        {"kind": "file", "title": "X"},
    ):
        response = course.request(
            course.teacher, "POST", f"/api/v1/modules/{module['id']}/items", json=body
        )
        assert response.status_code == 422, response.text
    code = f"C-{uuid.uuid4().hex[:8]}"
    copied = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/copy",
        json={"code": code, "title": "Copy"},
    )
    shown = course.call(course.teacher, "GET", f"/api/v1/courses/{copied['course_id']}/content")
    new_file = shown["modules"][0]["items"][0]["file_id"]
    assert new_file != pdf["id"]
    copy_of = course.call(course.teacher, "GET", f"/api/v1/files/{new_file}")
    assert copy_of["blake3"] == pdf["blake3"] and copy_of["name"] == "handout.pdf"
    # Deleting the original file removes the item showing it, not the copy's.
    assert course.request(course.teacher, "DELETE", f"/api/v1/files/{pdf['id']}").status_code == 204
    assert course.content(course.teacher)["modules"][0]["items"] == []
    assert (
        course.call(course.teacher, "GET", f"/api/v1/files/{new_file}")["blake3"] == pdf["blake3"]
    )


def test_a_live_session_item_schedules_a_room_of_the_course(course: Course) -> None:
    module = course.module("Week 2")
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    item = course.item(
        module["id"], kind="live_session", title="Lab Q&A", starts_at=starts.isoformat()
    )
    room_id = item["target_id"]
    assert room_id
    room = course.call(course.teacher, "GET", f"/api/v1/rooms/{room_id}")
    assert room["title"] == "Lab Q&A" and room["course_id"] == course.id
    home = course.call(course.student, "GET", f"/api/v1/courses/{course.id}/home")
    assert [u["item"]["id"] for u in home["upcoming"]] == [item["id"]]
    # The course's student joins the scheduled room as a participant.
    joined = course.call(course.student, "POST", f"/api/v1/rooms/{room_id}/join")
    assert joined["role"] == "participant"


def _answers(client: RawClient) -> int:
    return sum(isinstance(m, SyncStep2) for m in client.messages)


def _answered_since(seen: int, client: RawClient) -> bool:
    return _answers(client) > seen


async def test_publish_has_every_edit_the_server_received(course: Course) -> None:
    page = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/pages", json={"title": "Fresh"}
    )
    editor = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    client = await RawClient.open(course.node, editor["document"], editor["token"])
    try:
        for n in range(5):
            await client.insert(f"Line {n}\n")
            # A sync round trip (as the web app's Publish does first): the server has taken
            # the edit in, its write perhaps still queued; publish right away.
            answered = _answers(client)
            await client.send(encode_sync_step1(client.doc.get_state()))
            await client.until(functools.partial(_answered_since, answered))
            published = course.call(course.teacher, "POST", f"/api/v1/pages/{page['id']}/publish")
            assert f"Line {n}" in published["html"], published["html"]
    finally:
        await client.close()


async def test_simultaneous_first_events_record_one_progress(course: Course) -> None:
    module = course.module("Race")
    item = course.link(module["id"], "Everyone at once")
    headers = {"Authorization": f"Bearer {course.student}"}
    async with httpx.AsyncClient(base_url=course.node.url, headers=headers, timeout=60) as client:
        sent = [
            client.post(f"/api/v1/items/{item['id']}/progress", json={"event": "view"})
            for _ in range(12)
        ]
        answers = await asyncio.gather(*sent)
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers]
    table = course.call(course.teacher, "GET", f"/api/v1/courses/{course.id}/progress")
    me = course.call(course.student, "GET", "/api/v1/users/me")["id"]
    row = next(r for r in table["learners"] if r["user_id"] == me)
    assert row["completed"] == 1 and row["items"][item["id"]]["viewed"] is True
