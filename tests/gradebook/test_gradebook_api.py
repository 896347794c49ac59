"""The gradebook API on a live node (SQLite and PostgreSQL): weighted groups and drops give
the same numbers in the grid, the CSV export and a learner's own page; grades stay hidden
until posted, posting notifies the learners; overrides need a reason; the grade-change
history pages by course, student and column; TAs grade, students see only their own posted
grades; AGS line items; privacy export and erasure; bad input gets problem documents."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Any

import pytest
from gradebook_kit import Course

from kits.nodes import Node
from kits.waiting import eventually

pytestmark = pytest.mark.postgres
PROBLEM = "application/problem+json"


@pytest.fixture
def course(node: Node) -> Course:
    return Course(node)


def _weighted_book(course: Course) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Homework 40% (drop lowest 1) and Exams 60%; three homework columns and one exam."""
    course.call(course.teacher, "PATCH", f"{course.base}/settings", json={"weighted": True})
    hw = course.call(
        course.teacher,
        "POST",
        f"{course.base}/groups",
        json={"name": "Homework", "weight": "40", "drop_lowest": 1},
    )
    exams = course.call(
        course.teacher, "POST", f"{course.base}/groups", json={"name": "Exams", "weight": "60"}
    )
    h = [course.column(f"HW {n}", "10", group_id=hw["id"]) for n in (1, 2, 3)]
    exam = course.column("Midterm", "100", group_id=exams["id"])
    for column, score in zip(h, ("8", "9", "2"), strict=True):
        course.grade(column["id"], 0, score=score)
    course.grade(exam["id"], 0, score="70")
    return hw["id"], h[2], exam


def test_the_grid_the_csv_and_the_learner_show_the_same_grade(course: Course) -> None:
    homework_id, dropped, _ = _weighted_book(course)
    grid = course.call(course.teacher, "GET", f"{course.base}/grid")
    row = next(r for r in grid["rows"] if r["student"]["id"] == str(course.student_ids[0]))
    # Homework keeps 8 and 9 (85%), the exam is 70%: 0.4 * 85 + 0.6 * 70 = 76.
    assert row["grades"]["current"]["percent"] == "76.00"
    assert row["grades"]["letter"] == "C"
    groups = row["grades"]["current"]["groups"]
    homework = next(g for g in groups if g["group_id"] == homework_id)
    assert homework["dropped"] == [dropped["id"]]
    exported = course.request(course.teacher, "GET", f"{course.base}/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    mine = next(r for r in lines if r["ID"] == str(course.student_ids[0]))
    assert (mine["Current Score"], mine["Grade"]) == ("76.00", "C")
    assert mine["Final Score"] == row["grades"]["final"]["percent"]
    # Manual columns post automatically: the learner sees the same grade.
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    assert own["grades"]["percent"] == "76.00" and own["weighted"] is True
    # Another learner with nothing graded has no current grade and a final of 0.
    other = next(r for r in grid["rows"] if r["student"]["id"] == str(course.student_ids[1]))
    assert other["grades"]["current"]["percent"] is None
    assert other["grades"]["final"]["percent"] == "0.00"


def test_grades_are_hidden_until_posted_and_posting_notifies(course: Course) -> None:
    quiz = course.column("Quiz", "20", post_policy="manual")
    course.grade(quiz["id"], 0, score="15", reason="manual grading")
    course.grade(quiz["id"], 1, excused=True)
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    shown = next(c for c in own["columns"] if c["column"]["id"] == quiz["id"])
    assert shown["hidden"] is True and shown["cell"] is None
    assert own["grades"]["percent"] is None
    # A TA posts the column: both learners' cells are released, each is notified.
    released = course.call(course.ta, "POST", f"{course.base}/columns/{quiz['id']}/post", json={})
    assert sorted(released) == sorted(str(i) for i in course.student_ids[:2])
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    shown = next(c for c in own["columns"] if c["column"]["id"] == quiz["id"])
    assert shown["cell"]["score"] == "15.00" and own["grades"]["percent"] == "75.00"

    def notified() -> bool:
        inbox = course.call(course.students[0], "GET", "/api/v1/notifications")["items"]
        return any(n["title"] == "Grade posted: Quiz" for n in inbox)

    asyncio.run(eventually(notified, "the grade notification"))
    # Hiding again (manual policy) takes the grade away from the learner.
    course.call(course.teacher, "POST", f"{course.base}/columns/{quiz['id']}/hide")
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    assert own["grades"]["percent"] is None
    kinds = course.call(
        course.teacher,
        "GET",
        f"{course.base}/history",
        params={"column_id": quiz["id"], "student_id": str(course.student_ids[0])},
    )["items"]
    assert [(k["kind"], k["reason"]) for k in kinds] == [
        ("posting", "hidden"),
        ("posting", "posted"),
        ("score", "manual grading"),
    ]


def test_history_pages_and_a_stale_edit_is_refused(course: Course) -> None:
    column = course.column("Essay", "10")
    for score in ("1", "2", "3", "4", "5"):
        course.grade(column["id"], 2, score=score, reason=f"pass {score}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"column_id": column["id"], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = course.request(course.teacher, "GET", f"{course.base}/history", params=params)
        page = response.json()
        seen += [c["reason"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
    assert seen == [f"pass {n}" for n in (5, 4, 3, 2, 1)]
    first = course.call(course.teacher, "GET", f"{course.base}/history", params={"limit": 1})
    assert first["items"][0]["actor_id"] == str(course.teacher_id)
    assert first["items"][0]["old"]["score"] == "4.00"
    assert first["items"][0]["new"]["score"] == "5.00"
    # Two graders: the second sends the state it read, which is no longer the cell's.
    cell = course.grade(column["id"], 2, score="6")
    stale = {**cell["state"], "score": "5.00"}
    path = f"{course.base}/columns/{column['id']}/grades/{course.student_ids[2]}"
    answer = course.request(course.ta, "PUT", path, json={"score": "7", "expect": stale})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == PROBLEM
    fresh = course.request(course.ta, "PUT", path, json={"score": "7", "expect": cell["state"]})
    assert fresh.status_code == 200 and fresh.json()["score"] == "7.00"


def test_an_override_needs_a_reason_and_wins(course: Course) -> None:
    column = course.column("Project", "10")
    course.grade(column["id"], 0, score="5")
    path = f"{course.base}/overrides/{course.student_ids[0]}"
    for body in (
        {"percent": "91"},
        {"percent": "91", "reason": ""},
        {"percent": "-1", "reason": "x"},
    ):
        answer = course.request(course.teacher, "PUT", path, json=body)
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    # A TA grades but does not override.
    body = {"percent": "91.5", "reason": "Extra project accepted"}
    assert course.request(course.ta, "PUT", path, json=body).status_code == 403
    course.call(course.teacher, "PUT", path, json=body)
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    assert (own["grades"]["percent"], own["grades"]["letter"]) == ("91.50", "A-")
    assert own["grades"]["current"]["percent"] == "50.00"
    change = course.call(
        course.teacher,
        "GET",
        f"{course.base}/history",
        params={"student_id": str(course.student_ids[0]), "limit": 1},
    )["items"][0]
    assert (change["kind"], change["new"], change["reason"]) == (
        "override",
        {"percent": "91.5000"},
        "Extra project accepted",
    )
    course.call(course.teacher, "PUT", path, json={"percent": None, "reason": "withdrawn"})
    own = course.call(course.students[0], "GET", f"{course.base}/mine")
    assert own["grades"]["percent"] == "50.00"


def test_who_may_do_what(course: Course) -> None:
    column = course.column("Lab", "10")
    cell = f"{course.base}/columns/{column['id']}/grades/{course.student_ids[0]}"
    student, outsider, ta = course.students[0], course.outsider, course.ta
    for token, method, path, expected in (
        (student, "GET", f"{course.base}/grid", 403),
        (student, "GET", f"{course.base}", 403),
        (student, "PUT", cell, 403),
        (student, "GET", f"{course.base}/history", 403),
        (student, "GET", f"{course.base}/export.csv", 403),
        (outsider, "GET", f"{course.base}/mine", 403),
        (ta, "GET", f"{course.base}/mine", 403),
        (ta, "PATCH", f"{course.base}/settings", 403),
        (ta, "POST", f"{course.base}/groups", 403),
        (ta, "GET", f"{course.base}/grid", 200),
        (ta, "PUT", cell, 200),
        (None, "GET", f"{course.base}/grid", 401),
    ):
        body = {"score": "3"} if method == "PUT" else ({} if method != "GET" else None)
        answer = course.request(token, method, path, json=body)
        assert answer.status_code == expected, (method, path, answer.text)
        if expected >= 400:
            assert answer.headers["content-type"] == PROBLEM
    # A student grading a non-student, an unknown column: 404.
    ghost = f"{course.base}/columns/{column['id']}/grades/{course.teacher_id}"
    assert course.request(course.teacher, "PUT", ghost, json={"score": "1"}).status_code == 404
    unknown = f"{course.base}/columns/{uuid.uuid4()}/grades/{course.student_ids[0]}"
    assert course.request(course.teacher, "PUT", unknown, json={"score": "1"}).status_code == 404
    # The TA's role changes after their token was minted: the next request sees it.
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/enrollments",
        json={"email": course.ta_email, "role": "student"},
    )
    assert course.request(ta, "GET", f"{course.base}/grid").status_code == 403
    assert course.request(ta, "PUT", cell, json={"score": "4"}).status_code == 403


def test_bad_input_gets_a_problem(course: Course) -> None:
    column = course.column("Quiz", "10")
    cell = f"{course.base}/columns/{column['id']}/grades/{course.student_ids[0]}"
    nested: Any = {}
    for _ in range(200):
        nested = {"a": nested}
    for method, path, kwargs in (
        ("PUT", cell, {"json": {"score": "NaN"}}),
        ("PUT", cell, {"json": {"score": "1e12"}}),
        ("PUT", cell, {"json": {"score": "abc"}}),
        ("PUT", cell, {"json": {"score": "1", "colour": "red"}}),
        ("PUT", cell, {"json": {"score": "1", "expect": nested}}),
        ("PUT", cell, {"json": {"reason": "x" * 501}}),
        ("PUT", cell, {"content": b"{not json"}),
        ("PUT", f"{course.base}/columns/not-a-uuid/grades/{course.student_ids[0]}", {"json": {}}),
        ("PATCH", f"{course.base}/settings", {"json": {"scheme": []}}),
        ("PATCH", f"{course.base}/settings", {"json": {"scheme": [{"name": "A", "min": "90"}]}}),
        ("POST", f"{course.base}/groups", {"json": {"name": "G", "drop_lowest": -1}}),
        ("POST", f"{course.base}/groups", {"json": {"name": "G", "weight": "1e400"}}),
        ("POST", f"{course.base}/columns", {"json": {"title": "No points"}}),
        ("GET", f"{course.base}/history", {"params": {"cursor": "bm9wZQ"}}),
        ("GET", f"{course.base}/grid", {"params": {"limit": 0}}),
        ("GET", f"{course.base}/grid", {"params": {"cursor": "x" * 300}}),
    ):
        answer = course.request(course.teacher, method, path, **kwargs)
        assert answer.status_code == 422, (method, path, kwargs, answer.text)
        assert answer.headers["content-type"] == PROBLEM
    huge = {"score": "1", "reason": "x" * 2_000_000}
    answer = course.request(course.teacher, "PUT", cell, json=huge)
    assert answer.status_code == 413 and answer.headers["content-type"] == PROBLEM
    # A manual column can be deleted; a second delete finds nothing.
    gone = f"{course.base}/columns/{column['id']}"
    assert course.request(course.teacher, "DELETE", gone).status_code == 204
    answer = course.request(course.teacher, "DELETE", gone)
    assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM


def test_line_items_have_the_ags_shape(course: Course) -> None:
    automatic = course.column("Quiz 1", "10", due_at="2026-12-24T10:00:00Z")
    manual = course.column("Quiz 2", "5", post_policy="manual")
    course.grade(automatic["id"], 0, score="7.5")
    course.grade(manual["id"], 0, score="4")
    answer = course.request(course.teacher, "GET", f"{course.base}/lineitems", params={"limit": 1})
    assert answer.headers["content-type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert 'rel="next"' in answer.headers["Link"]
    items = answer.json()
    nxt = answer.headers["Link"].split(";")[0].strip("<>")
    items += course.request(course.teacher, "GET", nxt.replace(course.node.url, "")).json()
    by_label = {i["label"]: i for i in items}
    first = by_label["Quiz 1"]
    assert first["scoreMaximum"] == 10.0 and first["tag"] == "manual"
    assert first["endDateTime"] == "2026-12-24T10:00:00Z"
    assert first["id"].endswith(f"/gradebook/lineitems/{automatic['id']}")
    score = next(s for s in first["scores"] if s["userId"] == str(course.student_ids[0]))
    assert (score["scoreGiven"], score["gradingProgress"]) == (7.5, "FullyGraded")
    hidden = next(
        s for s in by_label["Quiz 2"]["scores"] if s["userId"] == str(course.student_ids[0])
    )
    assert "scoreGiven" not in hidden and hidden["gradingProgress"] == "Pending"
    assert course.request(course.students[0], "GET", f"{course.base}/lineitems").status_code == 403


def test_privacy_export_and_erasure(course: Course) -> None:
    shown = course.column("Shown", "10")
    hidden = course.column("Hidden", "10", post_policy="manual")
    course.grade(shown["id"], 1, score="9")
    course.grade(hidden["id"], 1, score="3")
    exported = course.call(course.students[1], "GET", "/api/v1/users/me/export")["gradebook"]
    assert [(g["column"], g["score"]) for g in exported["grades"]] == [("Shown", "9.00")]
    assert all(h["column_id"] == shown["id"] for h in exported["history"])
    answer = course.request(
        course.students[1], "DELETE", "/api/v1/users/me", json={"password": "correct-horse-battery"}
    )
    assert answer.status_code in (200, 202, 204), answer.text
    grid = course.call(course.teacher, "GET", f"{course.base}/grid")
    assert str(course.student_ids[1]) not in {r["student"]["id"] for r in grid["rows"]} or all(
        not r["cells"] for r in grid["rows"] if r["student"]["id"] == str(course.student_ids[1])
    )
    changes = course.call(
        course.teacher,
        "GET",
        f"{course.base}/history",
        params={"student_id": str(course.student_ids[1])},
    )
    assert changes["items"] == []
