"""A lab's end and deletion on a real node (SQLite and PostgreSQL): a step with several hidden
tests is checked against all of them (the learner sees which passed, never their source);
ending the lab grades every learner in its gradebook column and keeps each final workspace;
deleting a draft removes it, deleting a started lab archives it (learners lose it, the
staff keep its workspaces read-only, every feed closes with 4004)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pycrdt
import pytest
from sqlalchemy import select

from kits.labs import ADD, MAIN, RIGHT, Feed, LabCourse, main_of, open_mine, write_main
from kits.nodes import node_sessions
from kits.yjs import RawClient
from lms.gradebook import service as gradebook
from persistence.models import GradeScore
from realtime.yjs.messages import Auth

pytestmark = pytest.mark.postgres

MANY = [
    {"id": "small", "name": "small numbers", "source": "assert add(1, 2) == 3"},
    {"id": "neg", "name": "negative numbers", "source": "assert add(-1, -2) == -3"},
    {"id": "str", "name": "strings", "source": "assert add('a', 'b') == 'ab'"},
]
"""Three hidden tests of one step."""


def three_tests() -> list[dict[str, Any]]:
    return [{"id": "add", "title": "Add", "points": 4, "tests": MANY}]


async def check(course: LabCourse, token: str, lab_id: str, step: str) -> dict[str, Any]:
    """Check a step for credit (the first run may compile the sandbox: a long timeout)."""

    def run() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=course.node.url, headers=headers, timeout=300) as client:
            response = client.post(f"/api/v1/labs/{lab_id}/check", json={"step_id": step})
        assert response.status_code == 200, response.text
        return dict(response.json())

    return await asyncio.to_thread(run)


async def scores_of(course: LabCourse, lab_id: str) -> dict[str, Decimal | None]:
    async with node_sessions(course.node) as sessions, sessions() as session:
        column = await gradebook.column_for(session, source="lab", source_id=uuid.UUID(lab_id))
        assert column is not None
        rows = await session.scalars(select(GradeScore).where(GradeScore.column_id == column))
        return {str(s.user_id): s.score for s in rows.all()}


async def test_every_hidden_test_counts_and_the_end_grades_and_keeps_workspaces(
    course: LabCourse,
) -> None:
    lab = course.started(steps=three_tests())
    lab_id = lab["id"]
    first, second, third = course.learners
    staff_view = course.call(course.teacher, "GET", f"/api/v1/labs/{lab_id}")
    assert [t["id"] for t in staff_view["steps"][0]["tests"]] == ["small", "neg", "str"]
    seen = course.call(first, "GET", f"/api/v1/labs/{lab_id}")
    assert seen["steps"][0]["tests"] is None and seen["steps"][0]["test_count"] == 3
    one, two = await open_mine(course, lab, first), await open_mine(course, lab, second)
    # Numbers only: two of the three tests pass, so the step does not.
    await write_main(one, "def add(a, b):\n    return int(a) + int(b)\n")
    await one.until(lambda c: "int(a)" in main_of(c))
    partly = await check(course, first, lab_id, "add")
    assert partly["passed"] is False and partly["points"] == 0
    assert partly["tests"] == [
        {"id": "small", "name": "small numbers", "passed": True},
        {"id": "neg", "name": "negative numbers", "passed": True},
        {"id": "str", "name": "strings", "passed": False},
    ]
    assert "assert add" not in partly["output"]  # the hidden source stays hidden
    await write_main(one, RIGHT)
    await one.until(lambda c: main_of(c) == RIGHT)
    passed = await check(course, first, lab_id, "add")
    assert passed["passed"] is True and all(t["passed"] for t in passed["tests"])
    await write_main(two, "# started\n" + ADD)
    await two.until(lambda c: main_of(c).startswith("# started"))
    # Before the end there is no final workspace.
    final = f"/api/v1/labs/{lab_id}/workspaces/{course.ids[0]}/final"
    assert course.request(course.teacher, "GET", final).status_code == 404
    ended = course.call(course.teacher, "POST", f"/api/v1/labs/{lab_id}/end")
    assert ended["status"] == "ended"
    assert course.request(course.teacher, "POST", f"/api/v1/labs/{lab_id}/end").status_code == 409
    # Every learner is graded: the points of the steps passed, 0 for none.
    scores = await scores_of(course, lab_id)
    assert scores == {course.ids[0]: Decimal(4), course.ids[1]: Decimal(0), course.ids[2]: 0}
    # The final workspaces are kept with the grades, as they were at the end.
    await write_main(two, "# after the end\n")
    mine = course.call(first, "GET", final)
    assert mine["score"] == 4 and mine["steps_done"] == ["add"]
    assert {f["name"]: f["text"] for f in mine["files"]} == {"main.py": RIGHT, "notes.md": "notes"}
    theirs = course.call(
        course.ta, "GET", f"/api/v1/labs/{lab_id}/workspaces/{course.ids[1]}/final"
    )
    assert theirs["files"][0]["text"] == "# started\n" + ADD and theirs["score"] == 0
    untouched = course.call(third, "GET", f"/api/v1/labs/{lab_id}/workspaces/{course.ids[2]}/final")
    assert untouched["files"][0]["text"] == ADD
    # Someone else's final workspace is not a learner's to read.
    assert course.request(second, "GET", final).status_code == 403
    assert course.request(course.outsider, "GET", final).status_code in (403, 404)
    await one.close()
    await two.close()


async def test_a_draft_is_deleted_and_a_started_lab_archived(course: LabCourse) -> None:
    first, second, _ = course.learners
    draft = course.lab()
    path = f"/api/v1/labs/{draft['id']}"
    # A module shows the draft and, later, the started lab: deleting either takes the item.
    module = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/modules", json={"title": "Week 1"}
    )
    items = f"/api/v1/modules/{module['id']}/items"
    shows = {"kind": "lab", "title": "Draft lab", "target_id": draft["id"]}
    course.call(course.teacher, "POST", items, json=shows)
    # Only the course's instructors delete (TAs run labs, they do not author them).
    assert course.request(first, "DELETE", path).status_code in (403, 404)
    assert course.request(course.ta, "DELETE", path).status_code == 403
    assert course.request(course.outsider, "DELETE", path).status_code in (403, 404)
    assert course.request(course.teacher, "DELETE", path).status_code == 204
    assert course.request(course.teacher, "GET", path).status_code == 404
    assert course.request(course.teacher, "DELETE", path).status_code == 404
    assert shown_labs(course) == []
    # A started lab, in use: the learner in their workspace and on the feed, the instructor
    # in the learner's workspace and on the grid.
    lab = course.started()
    lab_id, path = lab["id"], f"/api/v1/labs/{lab['id']}"
    course.call(course.teacher, "POST", items, json=shows | {"target_id": lab_id})
    assert shown_labs(course) == [lab_id]
    asked = course.call(second, "POST", f"{path}/help", json={"step_id": "add", "note": "stuck"})
    owner = await open_mine(course, lab, first)
    await write_main(owner, RIGHT)
    await owner.until(lambda c: main_of(c) == RIGHT)
    editor = course.call(course.teacher, "POST", f"{path}/workspaces/{course.ids[0]}/editor")
    helper = await RawClient.open(course.node, editor["document"], editor["token"])
    await helper.until(lambda c: main_of(c) == RIGHT)
    learner_feed = await Feed.open(course, lab_id, first)
    staff_feed = await Feed.open(course, lab_id, course.teacher)
    await staff_feed.until(lambda m: m["type"] == "welcome")
    assert course.request(course.teacher, "DELETE", path).status_code == 204
    # Every feed closes with 4004; the learner's workspace connection with 4003; the
    # instructor's stays, read-only: an edit is refused and never stored.
    for feed in (learner_feed, staff_feed):
        async with asyncio.timeout(30):
            await asyncio.wait([feed._task])
        assert feed.close_code == 4004
    assert (await owner.closed())[0] == 4003
    await helper.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "LATE"))
    await helper.until(lambda c: any(isinstance(m, Auth) for m in c.messages))
    # Learners lose the lab; the staff keep it, archived and read-only.
    listed = course.call(first, "GET", f"/api/v1/courses/{course.id}/labs")
    assert lab_id not in [item["id"] for item in listed["items"]]
    assert course.request(first, "GET", path).status_code == 404
    assert course.request(first, "POST", f"{path}/workspace").status_code == 404
    assert course.request(second, "GET", f"{path}/live").status_code == 404
    mine = f"{path}/workspaces/{course.ids[0]}/editor"
    assert course.request(first, "POST", mine).status_code == 404
    assert course.call(course.teacher, "GET", path)["status"] == "archived"
    assert shown_labs(course) == []
    # The help request still waiting was resolved; nobody takes one any more.
    waiting = course.call(course.teacher, "GET", f"{path}/help?status=open")
    assert waiting["items"] == []
    for suffix in ("/help/next", f"/help/{asked['id']}/take"):
        assert course.request(course.teacher, "POST", path + suffix).status_code == 409
    staff_list = course.call(course.ta, "GET", f"/api/v1/courses/{course.id}/labs")
    assert lab_id in [item["id"] for item in staff_list["items"]]
    again = course.call(course.ta, "POST", mine)
    assert again["writable"] is False
    reader = await RawClient.open(course.node, again["document"], again["token"])
    await reader.until(lambda c: main_of(c) == RIGHT)
    assert "LATE" not in main_of(reader)
    # The running lab was graded as it was archived, and its final workspaces kept.
    final = course.call(course.ta, "GET", f"{path}/workspaces/{course.ids[0]}/final")
    assert final["files"][0]["text"] == RIGHT
    assert (
        course.request(first, "GET", f"{path}/workspaces/{course.ids[0]}/final").status_code == 404
    )
    assert (await scores_of(course, lab_id))[course.ids[0]] == Decimal(0)
    # Nothing changes an archived lab; deleting it again changes nothing.
    for method, suffix, body in (
        ("PATCH", "", {"title": "again"}),
        ("POST", "/start", None),
        ("POST", "/end", None),
        ("POST", "/lock", {"locked": True}),
        ("POST", "/broadcast", {"text": "hello"}),
        ("POST", f"/workspaces/{course.ids[0]}/reset", None),
        ("POST", "/feed", None),
    ):
        refused = course.request(course.teacher, method, path + suffix, json=body)
        assert refused.status_code == 409, (suffix, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert course.request(course.teacher, "DELETE", path).status_code == 204
    assert course.call(course.teacher, "GET", path)["status"] == "archived"
    await helper.close()
    await reader.close()


def shown_labs(course: LabCourse) -> list[str]:
    """The labs the course's module items show (as its instructor sees the content)."""
    content = course.call(course.teacher, "GET", f"/api/v1/courses/{course.id}/content")
    return [
        item["target_id"]
        for module in content["modules"]
        for item in module["items"]
        if item["kind"] == "lab"
    ]
