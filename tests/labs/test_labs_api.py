"""Labs on a real node (SQLite and PostgreSQL): authoring, a workspace per learner seeded
from the template on the Yjs channel, who may open which workspace, checks for credit in
the sandbox reaching the gradebook, the help queue and its flooding rules, lock / share /
broadcast / reset, the live feed (the instructor's grid), the timeline, and bad input."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pycrdt
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from kits.labs import ADD, MAIN, RIGHT, Feed, LabCourse, main_of, open_mine, write_main
from kits.nodes import node_sessions
from kits.rooms import ws_base
from kits.yjs import RawClient
from lms.gradebook import service as gradebook
from persistence.models import GradeScore
from realtime.yjs.messages import Auth, SyncStep1

pytestmark = pytest.mark.postgres


def tile(message: dict[str, Any], user_id: str) -> dict[str, Any] | None:
    items = message.get("workspaces") or message.get("items") or []
    return next((t for t in items if t["user_id"] == user_id), None)


async def test_each_learner_gets_a_workspace_and_checks_count_in_the_gradebook(
    course: LabCourse,
) -> None:
    lab = course.lab()
    assert lab["status"] == "draft" and lab["points"] == 5
    assert "<script>" not in lab["html"] and "<h1>Add</h1>" in lab["html"]
    first, second, third = course.learners
    # A draft is the instructors' only.
    assert course.request(first, "GET", f"/api/v1/labs/{lab['id']}").status_code == 404
    assert course.request(first, "POST", f"/api/v1/labs/{lab['id']}/workspace").status_code == 409
    started = course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/start")
    assert started["workspaces"] == 3
    seen = course.call(first, "GET", f"/api/v1/labs/{lab['id']}")
    assert seen["steps"][0]["tests"] is None and seen["steps"][0]["test_count"] == 1
    assert seen["files"][0] == {"name": "main.py", "text": ""}  # the template stays hidden
    # Each learner's own copy of the template, edited apart.
    one, two = await open_mine(course, lab, first), await open_mine(course, lab, second)
    assert main_of(one) == ADD and main_of(two) == ADD
    assert str(one.doc.get("file:notes.md", type=pycrdt.Text)) == "notes"
    await write_main(one, RIGHT)
    await one.until(lambda c: main_of(c) == RIGHT)
    # The server's check is the one that counts: its hidden tests against the file now.
    url = f"/api/v1/labs/{lab['id']}/check"

    def run(token: str, step: str) -> dict[str, Any]:
        # The first run compiles the sandbox's CPython (tens of seconds on a busy machine).
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=course.node.url, headers=headers, timeout=300) as client:
            response = client.post(url, json={"step_id": step})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def check(token: str, step: str) -> dict[str, Any]:
        return await asyncio.to_thread(run, token, step)

    passed = await check(first, "add")
    assert passed["passed"] is True and passed["completed"] is True
    assert passed["tests"] == [{"id": "t1", "name": "small", "passed": True}]
    assert passed["current_step"] == 1
    failed = await check(second, "add")
    assert failed["passed"] is False and failed["points"] == 0
    assert "assert add" not in failed["output"]  # hidden tests' source stays hidden
    assert (await check(first, "big"))["passed"] is True
    # The gradebook has the completed points; the learner sees their steps done.
    async with node_sessions(course.node) as sessions, sessions() as session:
        column = await gradebook.column_for(session, source="lab", source_id=uuid.UUID(lab["id"]))
        assert column is not None
        scores = {
            str(s.user_id): s.score
            for s in (
                await session.scalars(select(GradeScore).where(GradeScore.column_id == column))
            ).all()
        }
    assert scores[course.ids[0]] == Decimal(5)
    assert course.ids[1] not in scores or scores[course.ids[1]] in (None, Decimal(0))
    mine = course.call(first, "GET", f"/api/v1/labs/{lab['id']}")
    assert [s["done"] for s in mine["steps"]] == [True, True]
    # The grid: failing first filter, the stuck sort, the REST twin of the feed's tiles.
    grid = course.call(course.teacher, "GET", f"/api/v1/labs/{lab['id']}/workspaces?failing=true")
    assert [t["user_id"] for t in grid["items"]] == [course.ids[1]]
    stuck = course.call(course.teacher, "GET", f"/api/v1/labs/{lab['id']}/workspaces?sort=stuck")
    assert stuck["items"][-1]["user_id"] == course.ids[0] and len(stuck["items"]) == 3
    # A late look by the TA; the learners may not see the grid or the timeline.
    assert course.request(third, "GET", f"/api/v1/labs/{lab['id']}/workspaces").status_code == 403
    timeline = course.call(
        course.ta, "GET", f"/api/v1/labs/{lab['id']}/timeline?user_id={course.ids[0]}"
    )
    kinds = [e["kind"] for e in timeline["items"]]
    assert kinds[0] == "joined" and kinds.count("checked") == 2
    # Reset puts the template back (history kept) and is in the timeline.
    path = f"/api/v1/labs/{lab['id']}/workspaces/{course.ids[0]}/reset"
    course.call(course.teacher, "POST", path)
    await one.until(lambda c: main_of(c) == ADD)
    timeline = course.call(
        course.teacher, "GET", f"/api/v1/labs/{lab['id']}/timeline?user_id={course.ids[0]}"
    )
    assert timeline["items"][-1]["kind"] == "reset"
    # A browser run is kept in the timeline (at most every few seconds).
    for _ in range(3):
        course.call(first, "POST", f"/api/v1/labs/{lab['id']}/activity", json={"kind": "ran"})
    timeline = course.call(
        course.teacher, "GET", f"/api/v1/labs/{lab['id']}/timeline?user_id={course.ids[0]}"
    )
    assert [e["kind"] for e in timeline["items"]].count("ran") == 1
    await one.close()
    await two.close()


async def test_who_may_open_which_workspace(course: LabCourse) -> None:
    lab = course.started()
    first, second, _ = course.learners
    base = f"/api/v1/labs/{lab['id']}/workspaces"
    mine = course.call(first, "POST", f"/api/v1/labs/{lab['id']}/workspace")
    assert mine["writable"] is True and mine["document"].endswith(course.ids[0])
    # Someone else's workspace: refused over REST, and a token for one's own does not
    # open another's document (4003); a forged token is 4001.
    assert course.request(second, "POST", f"{base}/{course.ids[0]}/editor").status_code == 403
    assert course.request(
        course.outsider, "POST", f"{base}/{course.ids[0]}/editor"
    ).status_code in (403, 404)
    theirs = course.call(second, "POST", f"/api/v1/labs/{lab['id']}/workspace")
    stolen = await RawClient.open(course.node, mine["document"], theirs["token"], sync=False)
    assert (await stolen.closed())[0] == 4003
    forged = await RawClient.open(course.node, mine["document"], "x.y.z", sync=False)
    assert (await forged.closed())[0] == 4001
    # The instructor and the TA edit together with the learner.
    owner = await open_mine(course, lab, first)
    ta = course.call(course.ta, "POST", f"{base}/{course.ids[0]}/editor")
    assert ta["writable"] is True
    helper = await RawClient.open(course.node, ta["document"], ta["token"])
    await helper.until(lambda c: main_of(c) == ADD)
    await helper.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "# hint\n"))
    await owner.until(lambda c: main_of(c).startswith("# hint\n"))
    # Shared with the group: another learner reads it, and their writes are refused.
    course.call(
        course.teacher, "POST", f"/api/v1/labs/{lab['id']}/share", json={"user_id": course.ids[0]}
    )
    shared = course.call(second, "POST", f"{base}/{course.ids[0]}/editor")
    assert shared["writable"] is False
    viewer = await RawClient.open(course.node, shared["document"], shared["token"])
    await viewer.until(lambda c: main_of(c).startswith("# hint"))
    await viewer.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "VANDAL"))
    await owner.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "#"))
    await viewer.until(
        lambda c: main_of(c).startswith("## hint") or main_of(c).startswith("VANDAL#")
    )
    await helper.until(lambda c: main_of(c).startswith("## hint"))
    assert "VANDAL" not in main_of(helper)
    # Unshared: the group's connections close (4003), new tokens are refused.
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/share", json={"user_id": None})
    assert (await viewer.closed())[0] == 4003
    assert course.request(second, "POST", f"{base}/{course.ids[0]}/editor").status_code == 403
    # Removed from the course: the learner's own connection closes at once.
    course.call(
        course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{course.ids[0]}"
    )
    assert (await owner.closed())[0] == 4003
    for client in (helper, stolen, forged):
        await client.close()


async def test_eyes_on_me_locks_every_learner_on_the_yjs_channel(course: LabCourse) -> None:
    lab = course.started()
    learner = course.learners[2]
    owner = await open_mine(course, lab, learner)
    feed = await Feed.open(course, lab["id"], learner)
    teacher = course.call(
        course.teacher, "POST", f"/api/v1/labs/{lab['id']}/workspaces/{course.ids[2]}/editor"
    )
    watcher = await RawClient.open(course.node, teacher["document"], teacher["token"])
    await watcher.until(lambda c: main_of(c) == ADD)
    locked = course.call(
        course.teacher, "POST", f"/api/v1/labs/{lab['id']}/lock", json={"locked": True}
    )
    assert locked["locked"] is True
    # The lock signal switched the open connection (the learner's feed got it too); a token
    # minted now says read-only. The learner's edit is refused, never stored.
    await feed.until(lambda m: m["type"] == "lock" and m["locked"] is True)
    assert course.call(learner, "POST", f"/api/v1/labs/{lab['id']}/workspace")["writable"] is False
    await owner.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "LOCKED"))
    await owner.until(lambda c: any(isinstance(m, Auth) for m in c.messages))
    # The instructor still writes while everyone looks.
    await watcher.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "# look\n"))
    await owner.until(lambda c: "# look" in main_of(c))
    assert "LOCKED" not in main_of(watcher)
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/lock", json={"locked": False})
    await feed.until(lambda m: m["type"] == "lock" and m["locked"] is False)
    # Writable again: the server asks for the learner's edits (their typing comes through).
    await owner.until(lambda c: sum(isinstance(m, SyncStep1) for m in c.messages) >= 2)
    await owner.change(
        lambda d: d.get(MAIN, type=pycrdt.Text).insert(
            len(d.get(MAIN, type=pycrdt.Text)), "\n# free"
        )
    )
    await watcher.until(lambda c: "# free" in main_of(c))
    await owner.close()
    await watcher.close()
    await feed.close()


async def test_the_help_queue_serves_in_order_and_refuses_flooding(course: LabCourse) -> None:
    lab = course.started()
    first, second, third = course.learners
    url = f"/api/v1/labs/{lab['id']}/help"
    for token in (first, second, third):
        course.call(token, "POST", f"/api/v1/labs/{lab['id']}/workspace")
    a = course.call(first, "POST", url, json={"step_id": "add", "note": "stuck"})
    b = course.call(second, "POST", url, json={})
    assert (a["position"], b["position"]) == (1, 2)
    again = course.request(first, "POST", url, json={"note": "please"})
    assert again.status_code == 409 and again.json()["help_request_id"] == a["id"]
    assert course.call(second, "GET", f"{url}/mine")["position"] == 2
    # Instructors take requests in order; someone else's taken request is a 409.
    taken = course.call(course.teacher, "POST", f"{url}/next")
    assert taken["id"] == a["id"] and taken["status"] == "taken"
    assert course.call(second, "GET", f"{url}/mine")["position"] == 1
    assert course.request(course.ta, "POST", f"{url}/{a['id']}/take").status_code == 409
    course.call(course.teacher, "POST", f"{url}/{a['id']}/resolve")
    # A learner withdraws their own request, not someone else's.
    assert course.request(third, "POST", f"{url}/{b['id']}/resolve").status_code == 403
    course.call(second, "POST", f"{url}/{b['id']}/resolve")
    assert course.call(course.teacher, "GET", f"{url}?status=open")["items"] == []
    assert course.request(course.teacher, "POST", f"{url}/next").status_code == 404
    # Flooding: ask and withdraw over and over until the hourly cap says 429.
    codes = []
    for _ in range(14):
        response = course.request(third, "POST", url, json={})
        codes.append(response.status_code)
        if response.status_code == 201:
            course.call(third, "POST", f"{url}/{response.json()['id']}/resolve")
    assert codes[-1] == 429 and codes.count(201) == 12
    assert course.request(third, "POST", url, json={}).headers.get("retry-after")
    # Learners may not read the queue's detail or take requests.
    assert course.request(first, "GET", url).status_code == 403
    assert course.request(first, "POST", f"{url}/next").status_code == 403


async def test_the_live_feed_shows_the_grid_queue_lock_and_broadcasts(course: LabCourse) -> None:
    lab = course.started()
    learner = course.learners[1]
    teacher = await Feed.open(course, lab["id"], course.teacher)
    welcome = await teacher.until(lambda m: m["type"] == "welcome")
    assert welcome["role"] == "staff" and tile(welcome, course.ids[1]) is not None
    listener = await Feed.open(course, lab["id"], learner)
    hello = await listener.until(lambda m: m["type"] == "welcome")
    assert hello["role"] == "learner" and "workspaces" not in hello
    # A learner types: the grid shows the first lines of their file, live.
    owner = await open_mine(course, lab, learner)
    await owner.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "# typing live\n"))
    shown = await teacher.until(
        lambda m: (
            m["type"] == "workspaces"
            and (t := tile(m, course.ids[1])) is not None
            and t["thumbnail"].startswith("# typing live")
        )
    )
    assert tile(shown, course.ids[1])["file"] == "main.py"  # type: ignore[index]
    # Help, lock and a broadcast reach the learner; the grid gets the help request.
    asked = course.call(learner, "POST", f"/api/v1/labs/{lab['id']}/help", json={"step_id": "add"})
    await listener.until(lambda m: m["type"] == "queue" and asked["id"] in m["open"])
    await teacher.until(
        lambda m: (
            m["type"] == "workspaces"
            and (t := tile(m, course.ids[1])) is not None
            and (t.get("help") or {}).get("id") == asked["id"]
        )
    )
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/lock", json={"locked": True})
    await listener.until(lambda m: m["type"] == "lock" and m["locked"] is True)
    hint = {"kind": "snippet", "text": "print(add(1, 2))", "file": "main.py"}
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/broadcast", json=hint)
    got = await listener.until(lambda m: m["type"] == "broadcast")
    assert got["broadcast"]["text"] == hint["text"]
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/lock", json={"locked": False})
    # Someone outside the course gets no feed token; a bad token or lab closes the socket.
    assert course.request(
        course.outsider, "POST", f"/api/v1/labs/{lab['id']}/feed"
    ).status_code in (403, 404)
    for path in (f"/ws/labs/{lab['id']}?token=nope", "/ws/labs/not-a-lab?token=nope"):
        async with connect(ws_base(course.node) + path) as ws:
            await ws.wait_closed()
            assert ws.close_code == 4001
    await owner.close()
    await teacher.close()
    await listener.close()


def test_bad_input_is_refused_clearly(course: LabCourse) -> None:
    path = f"/api/v1/courses/{course.id}/labs"
    bad_bodies: list[dict[str, Any]] = [
        {"title": ""},
        {"title": "x", "files": []},
        {"title": "x", "files": [{"name": "a.py"}, {"name": "a.py"}]},
        {"title": "x", "files": [{"name": "../etc/passwd"}]},
        {"title": "x", "steps": [{"id": "s", "title": "t", "tests": []}]},
        {
            "title": "x",
            "steps": [
                {
                    "id": "s",
                    "title": "t",
                    "points": 10**30,
                    "tests": [{"id": "a", "name": "a", "source": ""}],
                }
            ],
        },
        {
            "title": "x",
            "steps": [
                {
                    "id": "s",
                    "title": "t",
                    "file": "nope.py",
                    "tests": [{"id": "a", "name": "a", "source": ""}],
                }
            ],
        },
        {"title": "x" * 201},
        {"title": "x", "instructions": "y" * 100_001},
    ]
    for body in bad_bodies:
        assert course.request(course.teacher, "POST", path, json=body).status_code == 422, body
    # Learners and TAs do not author; nulls in a patch keep the fields.
    assert course.request(course.learners[0], "POST", path, json={"title": "x"}).status_code == 403
    assert course.request(course.ta, "POST", path, json={"title": "x"}).status_code == 403
    lab = course.lab()
    patched = course.call(
        course.teacher, "PATCH", f"/api/v1/labs/{lab['id']}", json={"title": None, "steps": None}
    )
    assert patched["title"] == lab["title"] and len(patched["steps"]) == 2
    course.call(course.teacher, "POST", f"/api/v1/labs/{lab['id']}/start")
    learner = course.learners[1]
    course.call(learner, "POST", f"/api/v1/labs/{lab['id']}/workspace")
    check = f"/api/v1/labs/{lab['id']}/check"
    assert course.request(learner, "POST", check, json={"step_id": "nope"}).status_code == 422
    assert course.request(learner, "POST", check, json={"step_id": "../x"}).status_code == 422
    assert course.request(course.teacher, "POST", check, json={"step_id": "add"}).status_code == 403
    unknown = uuid.uuid4()
    assert course.request(course.teacher, "GET", f"/api/v1/labs/{unknown}").status_code == 404
    reset = f"/api/v1/labs/{lab['id']}/workspaces/{unknown}/reset"
    assert course.request(course.teacher, "POST", reset).status_code == 404
    help_url = f"/api/v1/labs/{lab['id']}/help/{2**63}/resolve"
    assert course.request(course.teacher, "POST", help_url).status_code in (404, 422)
    share = f"/api/v1/labs/{lab['id']}/share"
    assert (
        course.request(course.teacher, "POST", share, json={"user_id": str(unknown)}).status_code
        == 422
    )
