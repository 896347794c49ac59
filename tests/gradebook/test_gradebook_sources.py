"""Grades the other assessment domains hand to the gradebook on a live node (SQLite and
PostgreSQL): an assignment's grade is in the grid at once but hidden from the learner's
grades page until the assignment's grades are posted, which releases the gradebook cell too
and notifies the learner."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gradebook_kit import Course

from kits.nodes import Node
from kits.waiting import eventually

pytestmark = pytest.mark.postgres


@pytest.fixture
def course(node: Node) -> Course:
    return Course(node)


def _cell(own: dict[str, Any], title: str) -> dict[str, Any]:
    return dict(next(c for c in own["columns"] if c["column"]["title"] == title))


def test_an_assignment_grade_shows_once_the_assignment_posts_it(course: Course) -> None:
    body = {"title": "Essay", "points": "10", "published": True}
    made = course.call(
        course.teacher, "POST", f"/api/v1/courses/{course.id}/assignments", json=body
    )
    aid = made["id"]
    student = course.students[0]
    course.call(student, "POST", f"/api/v1/assignments/{aid}/submissions", json={"text": "Mine"})
    listing = course.call(course.ta, "GET", f"/api/v1/assignments/{aid}/grading")
    entry = next(e for e in listing["entries"] if e["user_id"] == str(course.student_ids[0]))
    path = f"/api/v1/assignments/{aid}/grading/{entry['key']}"
    course.call(course.ta, "PUT", path, json={"score": "8"})
    grid = course.call(course.teacher, "GET", f"{course.base}/grid")
    column = next(c for c in grid["structure"]["columns"] if c["source_id"] == aid)
    assert (column["source"], column["post_policy"]) == ("assignment", "manual")
    row = next(r for r in grid["rows"] if r["student"]["id"] == str(course.student_ids[0]))
    assert row["cells"][column["id"]]["score"] == "8.00"
    assert row["cells"][column["id"]]["posted"] is False
    own = course.call(student, "GET", f"{course.base}/mine")
    assert _cell(own, "Essay")["hidden"] is True and own["grades"]["percent"] is None
    course.call(course.teacher, "POST", f"/api/v1/assignments/{aid}/post")

    def released() -> bool:
        own = course.call(student, "GET", f"{course.base}/mine")
        return not _cell(own, "Essay")["hidden"]

    asyncio.run(eventually(released, "the gradebook cell posted with the assignment"))
    own = course.call(student, "GET", f"{course.base}/mine")
    assert _cell(own, "Essay")["cell"]["score"] == "8.00"
    assert own["grades"]["percent"] == "80.00"
    history = course.call(
        course.teacher, "GET", f"{course.base}/history", params={"column_id": column["id"]}
    )["items"]
    assert [(h["kind"], h["reason"]) for h in history] == [
        ("posting", "assignment posted"),
        ("score", "graded"),
    ]

    def notified() -> bool:
        inbox = course.call(student, "GET", "/api/v1/notifications")["items"]
        return any(n["title"] == "Grade posted: Essay" for n in inbox)

    asyncio.run(eventually(notified, "the grade notification"))
