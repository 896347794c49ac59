"""The autosave's fast path (``lms.assessments.hotpath``) never accepts a save the database
state refuses (SQLite and PostgreSQL): once a node knows an attempt, a save after signing
out everywhere, after deactivation, or after the learner left an unpublished course is
refused exactly as the full check refuses it, and nothing of it is written."""

from __future__ import annotations

from typing import Any

import pytest

from kits.nodes import Node
from tests.assessments.test_quiz_api import Course

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


def _learner(course: Course) -> tuple[str, str]:
    email, token = course.node.register()
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/enrollments",
        json={"email": email, "role": "student"},
    )
    return email, token


def _known_attempt(course: Course, token: str) -> tuple[str, str]:
    """An attempt the node has checked the full way once (so it knows it), and the question."""
    quiz = course.quiz(["short_answer"], max_attempts=None)
    attempt = course.start(quiz["id"], token)
    short = course.questions["short_answer"]
    for seq in (1, 2):  # the first save teaches the node, the second takes the fast path
        saved = _save(course, token, attempt["id"], seq, f"answer {seq}")
        assert saved.status_code == 200, saved.text
        assert saved.json()["saved"] == [short]
    return attempt["id"], short


def _save(course: Course, token: str, attempt_id: str, seq: int, text: str) -> Any:
    short = course.questions["short_answer"]
    body = {"seq": seq, "answers": {short: {"answer": text}}}
    return course.request(token, "PUT", f"/api/v1/attempts/{attempt_id}/answers", json=body)


def _kept(course: Course, attempt_id: str, question: str) -> Any:
    graded = course.call(course.teacher, "GET", f"/api/v1/attempts/{attempt_id}")
    return {q["id"]: q["answer"] for q in graded["questions"]}[question]


def test_signed_out_everywhere_is_refused(course: Course) -> None:
    _, token = _learner(course)
    attempt_id, short = _known_attempt(course, token)
    done = course.request(token, "POST", "/api/v1/auth/logout", json={"everywhere": True})
    assert done.status_code == 204, done.text
    assert _save(course, token, attempt_id, 3, "after sign-out").status_code == 401
    assert _kept(course, attempt_id, short) == {"answer": "answer 2"}


def test_deactivated_is_refused(course: Course) -> None:
    email, token = _learner(course)
    attempt_id, short = _known_attempt(course, token)
    admin = course.node.admin_token()
    user = course.node.user_id(email)
    done = course.request(admin, "PATCH", f"/api/v1/users/{user}", json={"is_active": False})
    assert done.status_code == 200, done.text
    assert _save(course, token, attempt_id, 3, "after deactivation").status_code == 401
    assert _kept(course, attempt_id, short) == {"answer": "answer 2"}


def test_removed_from_an_unpublished_course_is_refused(course: Course) -> None:
    assert course.call(course.teacher, "GET", f"/api/v1/courses/{course.id}")["status"] != (
        "published"
    )
    email, token = _learner(course)
    attempt_id, short = _known_attempt(course, token)
    user = course.node.user_id(email)
    gone = course.request(
        course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{user}"
    )
    assert gone.status_code == 204, gone.text
    assert _save(course, token, attempt_id, 3, "after removal").status_code == 404
    assert _kept(course, attempt_id, short) == {"answer": "answer 2"}


def test_another_learners_token_is_refused(course: Course) -> None:
    _, token = _learner(course)
    _, other = _learner(course)
    attempt_id, short = _known_attempt(course, token)
    assert _save(course, other, attempt_id, 3, "not mine").status_code == 404
    assert _kept(course, attempt_id, short) == {"answer": "answer 2"}
