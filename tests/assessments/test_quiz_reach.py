"""A quiz in a locked module cannot be started (SQLite and PostgreSQL): the unlock date not
reached, the prerequisite modules not completed; it starts once the module opens. A quiz in
no module is started directly (the other quiz tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kits.nodes import Node
from tests.assessments.test_quiz_api import Course

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


def _module(course: Course, title: str, **fields: Any) -> dict[str, Any]:
    return dict(
        course.call(
            course.teacher,
            "POST",
            f"/api/v1/courses/{course.id}/modules",
            json={"title": title, "published": True, **fields},
        )
    )


def _quiz_item(course: Course, module: dict[str, Any], quiz_id: str) -> None:
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={"kind": "quiz", "title": "Quiz", "target_id": quiz_id, "published": True},
    )


def _start(course: Course, quiz_id: str) -> Any:
    return course.request(course.student, "POST", f"/api/v1/quizzes/{quiz_id}/attempts")


def test_a_quiz_behind_an_unlock_date_starts_once_it_passes(course: Course) -> None:
    quiz = course.quiz(["true_false"])
    later = datetime.now(UTC) + timedelta(days=2)
    module = _module(course, "Next week", unlock_at=later.isoformat())
    _quiz_item(course, module, quiz["id"])
    refused = _start(course, quiz["id"])
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (
        course.call(course.teacher, "GET", f"/api/v1/quizzes/{quiz['id']}/attempts")["items"] == []
    )
    earlier = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    course.call(
        course.teacher, "PATCH", f"/api/v1/modules/{module['id']}", json={"unlock_at": earlier}
    )
    assert _start(course, quiz["id"]).status_code == 201


def test_a_quiz_behind_a_prerequisite_starts_once_it_is_completed(course: Course) -> None:
    first_quiz = course.quiz(["true_false"])
    second_quiz = course.quiz(["true_false"])
    first = _module(course, "Basics")
    _quiz_item(course, first, first_quiz["id"])
    second = _module(course, "Advanced", prerequisites=[first["id"]])
    _quiz_item(course, second, second_quiz["id"])
    refused = _start(course, second_quiz["id"])
    assert refused.status_code == 403, refused.text
    assert "Basics" in refused.json()["detail"] or refused.json()["detail"]
    # Completing the first module (its quiz item asks for a submission) opens the second.
    attempt = _start(course, first_quiz["id"]).json()
    course.call(course.student, "POST", f"/api/v1/attempts/{attempt['id']}/submit")
    assert _start(course, second_quiz["id"]).status_code == 201
    # The course's staff are not learners: they never start quizzes, locked or not.
    assert (
        course.request(
            course.teacher, "POST", f"/api/v1/quizzes/{second_quiz['id']}/attempts"
        ).status_code
        == 403
    )
