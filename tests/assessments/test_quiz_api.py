"""Quizzes on a real node (SQLite and PostgreSQL): banks of every question type, a quiz
drawn from pools, attempts taken over HTTP with autosave, submission and auto-grading,
release policies checked on the raw JSON, the server's deadline (lazily and by the job),
one open attempt under concurrent starts, manual grading, regrade, statistics, and the bad
input the issue lists."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kits.nodes import Node, node_sessions
from lms.gradebook import history
from lms.gradebook import service as gradebook
from tests.assessments.samples import RAW

pytestmark = pytest.mark.postgres


def _definition(kind: str, **changes: Any) -> dict[str, Any]:
    return {"type": kind, "prompt": f"Question {kind}?", "points": 2, **RAW[kind], **changes}


class Course:
    """A course with an instructor, a TA, two students and an outsider, and a bank holding
    one question of every type."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.teacher_email, self.teacher = node.register("instructor")
        ta_email, self.ta = node.register()
        s1, self.student = node.register()
        s2, self.student2 = node.register()
        _, self.outsider = node.register()
        self.student_id = node.user_id(s1)
        code = f"Q-{uuid.uuid4().hex[:8]}"
        self.id = self.call(
            self.teacher, "POST", "/api/v1/courses", json={"code": code, "title": "Physics"}
        )["id"]
        for email, role in ((ta_email, "ta"), (s1, "student"), (s2, "student")):
            self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": role},
            )
        self.bank = self.call(
            self.teacher, "POST", f"/api/v1/courses/{self.id}/question-banks", json={"title": "B"}
        )["id"]
        self.questions: dict[str, str] = {}
        for kind in RAW:
            body = {"title": kind, "tags": ["all", kind], "definition": _definition(kind)}
            created = self.call(
                self.teacher, "POST", f"/api/v1/question-banks/{self.bank}/questions", json=body
            )
            self.questions[kind] = created["id"]

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def quiz(self, kinds: list[str] | None = None, **settings: Any) -> dict[str, Any]:
        slots = [{"question_id": self.questions[k]} for k in (kinds or list(RAW))]
        body = {"title": "Quiz", "published": True, "slots": slots, **settings}
        return dict(
            self.call(self.teacher, "POST", f"/api/v1/courses/{self.id}/quizzes", json=body)
        )

    def start(self, quiz_id: str, token: str | None = None) -> dict[str, Any]:
        return dict(self.call(token or self.student, "POST", f"/api/v1/quizzes/{quiz_id}/attempts"))


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


KEY_MARKS = (
    "SECRETa",
    "SECRETb",
    "SECRETc",
    "SECRET feedback",
    "SECRET explanation",
    "SECRET notes",
    "SECRET well done",
    "SECRET name",
    "SECRETt2",
    "SECRETparis",
    "SECRETtemp",
    "SECRET1",
    "987654321",
    '"explanation"',
)
"""Key material of the sample questions (a learner's own answers may quote "SECRET answer"
or the numeric key, which they typed themselves)."""


def _leaks(text: str) -> list[str]:
    return [mark for mark in KEY_MARKS if mark in text]


def _by_text(items: list[dict[str, Any]], text: str) -> str:
    return next(str(i["token"]) for i in items if i["text"] == text)


def _correct_answers(attempt: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """Right answers, in the attempt's tokens, to the questions whose views we can read."""
    views = {q["id"]: q["view"] for q in attempt["questions"]}
    answers: dict[str, Any] = {}
    for kind, question_id in ids.items():
        view = views.get(question_id)
        if view is None:
            continue
        if kind == "single_choice":
            answers[question_id] = {"choice": _by_text(view["choices"], "Beta")}
        elif kind == "multiple_choice":
            picks = [_by_text(view["choices"], t) for t in ("Alpha", "Gamma")]
            answers[question_id] = {"choices": picks}
        elif kind == "true_false":
            answers[question_id] = {"answer": True}
        elif kind == "numeric":
            answers[question_id] = {"answer": "987654.321 km"}
        elif kind == "short_answer":
            answers[question_id] = {"answer": "SECRET answer"}
        elif kind == "ordering":
            order = ["one", "two", "three", "four"]
            answers[question_id] = {"order": [_by_text(view["items"], t) for t in order]}
        elif kind == "essay":
            answers[question_id] = {"text": "Energy is conserved in a closed system."}
    return answers


def test_a_student_takes_a_quiz_of_every_type_and_sees_only_what_the_policy_allows(
    course: Course,
) -> None:
    quiz = course.quiz(results_release="immediately", answers_release="manual")
    started = course.request(course.student, "POST", f"/api/v1/quizzes/{quiz['id']}/attempts")
    assert started.status_code == 201, started.text
    assert _leaks(started.text) == []
    attempt = started.json()
    assert {q["id"] for q in attempt["questions"]} == set(course.questions.values())
    # A new attempt answers with its empty answers, not read again: a read shows the same.
    assert course.call(course.student, "GET", f"/api/v1/attempts/{attempt['id']}") == attempt
    # Starting again resumes the open attempt.
    again = course.request(course.student, "POST", f"/api/v1/quizzes/{quiz['id']}/attempts")
    assert again.status_code == 200 and again.json()["id"] == attempt["id"]
    answers = _correct_answers(attempt, course.questions)
    saved = course.call(
        course.student,
        "PUT",
        f"/api/v1/attempts/{attempt['id']}/answers",
        json={"seq": 1, "answers": answers},
    )
    assert len(saved["saved"]) == len(answers) and saved["stale"] == []
    # A reload shows the answers in the same tokens.
    reread = course.request(course.student, "GET", f"/api/v1/attempts/{attempt['id']}")
    assert _leaks(reread.text) == []
    shown = {q["id"]: q["answer"] for q in reread.json()["questions"]}
    for question_id, answer in answers.items():
        assert shown[question_id] == answer
    submitted = course.request(course.student, "POST", f"/api/v1/attempts/{attempt['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "submitted" and body["submitted_by"] == "learner"
    # Six questions right by the core (2 points each); the essay waits for a grader;
    # unanswered questions score zero and wait for no one.
    assert body["score"] == 12.0 and body["points"] == 24.0
    assert body["pending"] == 1
    assert body["key"] is None
    assert _leaks(submitted.text) == []
    # The submission answers with the rows it graded, not read again: a read shows the same.
    assert course.call(course.student, "GET", f"/api/v1/attempts/{attempt['id']}") == body
    # The instructor releases the correct answers: now the key is there.
    course.call(course.teacher, "POST", f"/api/v1/quizzes/{quiz['id']}/release")
    released = course.call(course.student, "GET", f"/api/v1/attempts/{attempt['id']}")
    key = released["key"][course.questions["single_choice"]]
    assert key["definition"]["answer"] == "SECRETb" and key["result"]["score"] == 2.0
    # A duplicated submission answers the same result.
    twice = course.call(course.student, "POST", f"/api/v1/attempts/{attempt['id']}/submit")
    assert twice["submitted_at"] == body["submitted_at"] and twice["score"] == body["score"]


def test_results_released_after_the_due_date_or_never_stay_hidden(course: Course) -> None:
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    quiz = course.quiz(
        ["single_choice"], results_release="after_due", answers_release="never", due_at=due
    )
    attempt = course.start(quiz["id"])
    answers = _correct_answers(attempt, course.questions)
    url = f"/api/v1/attempts/{attempt['id']}"
    course.call(course.student, "PUT", f"{url}/answers", json={"seq": 1, "answers": answers})
    done = course.request(course.student, "POST", f"{url}/submit")
    assert done.json()["score"] is None and done.json()["results"] is None
    assert _leaks(done.text) == []
    mine = course.call(course.student, "GET", f"/api/v1/quizzes/{quiz['id']}/me")
    assert mine["score"] is None and mine["attempts"][0]["score"] is None
    # Staff see everything.
    staff = course.call(course.ta, "GET", url)
    assert staff["score"] == 2.0 and staff["key"] is not None
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    course.call(course.teacher, "PATCH", f"/api/v1/quizzes/{quiz['id']}", json={"due_at": past})
    after = course.request(course.student, "GET", url)
    assert after.json()["score"] == 2.0 and after.json()["key"] is None
    assert _leaks(after.text) == []


def test_autosave_never_lets_an_older_save_overwrite_a_newer_one(course: Course) -> None:
    quiz = course.quiz(["short_answer", "true_false"])
    attempt = course.start(quiz["id"])
    sa, tf = course.questions["short_answer"], course.questions["true_false"]
    url = f"/api/v1/attempts/{attempt['id']}/answers"
    newer = {"seq": 5, "answers": {sa: {"answer": "newer"}}}
    assert course.call(course.student, "PUT", url, json=newer)["saved"] == [sa]
    older = {"seq": 4, "answers": {sa: {"answer": "older"}, tf: {"answer": False}}}
    result = course.call(course.student, "PUT", url, json=older)
    assert result["stale"] == [sa] and result["saved"] == [tf]
    repeated = course.call(course.student, "PUT", url, json=newer)
    assert repeated["stale"] == [sa] and repeated["saved"] == []
    shown = course.call(course.student, "GET", f"/api/v1/attempts/{attempt['id']}")
    answers = {q["id"]: q["answer"] for q in shown["questions"]}
    assert answers[sa] == {"answer": "newer"} and answers[tf] == {"answer": False}
    course.call(course.student, "POST", f"/api/v1/attempts/{attempt['id']}/submit")


async def test_concurrent_starts_make_one_open_attempt(course: Course) -> None:
    quiz = course.quiz(["true_false"], max_attempts=None)
    headers = {"Authorization": f"Bearer {course.student2}"}
    async with httpx.AsyncClient(base_url=course.node.url, headers=headers, timeout=60) as http:
        starts = await asyncio.gather(
            *(http.post(f"/api/v1/quizzes/{quiz['id']}/attempts") for _ in range(12))
        )
    assert all(r.status_code in (200, 201) for r in starts), [r.text for r in starts]
    assert len({r.json()["id"] for r in starts}) == 1
    assert sum(r.status_code == 201 for r in starts) == 1
    listed = course.call(course.teacher, "GET", f"/api/v1/quizzes/{quiz['id']}/attempts")
    assert len(listed["items"]) == 1


def _answered_before(
    course: Course, quiz: dict[str, Any], closes: datetime
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Both students start and save one answer; None if the quiz closed first (the window
    was too short for a loaded machine), a failure if anything else went wrong."""
    tf = course.questions["true_false"]
    attempts = []
    for token in (course.student, course.student2):
        started = course.request(token, "POST", f"/api/v1/quizzes/{quiz['id']}/attempts")
        if started.status_code >= 300 and datetime.now(UTC) >= closes:
            return None
        assert started.status_code < 300, started.text
        path = f"/api/v1/attempts/{started.json()['id']}/answers"
        saved = course.request(
            token, "PUT", path, json={"seq": 1, "answers": {tf: {"answer": True}}}
        )
        if saved.status_code >= 300 and datetime.now(UTC) >= closes:
            return None
        assert saved.status_code < 300, saved.text
        attempts.append(dict(started.json()))
    return attempts[0], attempts[1]


def test_the_deadline_is_the_servers(course: Course) -> None:
    """A save after the deadline is refused and the attempt is submitted with what was
    saved before; the job closes an attempt nobody reads again."""
    for seconds in (3, 6, 12, 24, 48):  # a longer window when the machine is slow
        closes = datetime.now(UTC) + timedelta(seconds=seconds)
        quiz = course.quiz(["true_false", "short_answer"], available_until=closes.isoformat())
        answered = _answered_before(course, quiz, closes)
        if answered is not None:
            break
    assert answered is not None, "the quiz closed before two students could start it"
    attempt, other = answered
    tf = course.questions["true_false"]
    url = f"/api/v1/attempts/{attempt['id']}"
    while datetime.now(UTC) < closes + timedelta(milliseconds=200):
        time.sleep(0.2)
    late = course.request(
        course.student, "PUT", f"{url}/answers", json={"seq": 2, "answers": {tf: {"answer": False}}}
    )
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert "over" in late.json()["detail"]
    closed = course.call(course.student, "GET", url)
    assert closed["status"] == "submitted" and closed["submitted_by"] == "deadline"
    assert closed["score"] == 2.0  # the answer saved before the deadline counts
    # Nobody reads the second student's attempt: the periodic job submits it.
    listing = f"/api/v1/quizzes/{quiz['id']}/attempts"
    for _ in range(300):
        rows = {a["id"]: a for a in course.call(course.teacher, "GET", listing)["items"]}
        if rows[other["id"]]["status"] == "submitted":
            break
        time.sleep(0.2)
    assert rows[other["id"]]["status"] == "submitted" and rows[other["id"]]["score"] == 2.0


def test_bad_answers_are_refused_and_harm_nothing(course: Course) -> None:
    quiz = course.quiz(["single_choice", "essay"], max_attempts=None)
    attempt = course.start(quiz["id"])
    url = f"/api/v1/attempts/{attempt['id']}"
    sc, essay = course.questions["single_choice"], course.questions["essay"]
    good = {"seq": 1, "answers": {sc: {"choice": "c1"}}}
    course.call(course.student, "PUT", f"{url}/answers", json=good)

    def refused(body: Any, status: int, token: str | None = None) -> dict[str, Any]:
        response = course.request(token or course.student, "PUT", f"{url}/answers", json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        return dict(response.json())

    # A question the attempt lacks, a made-up id, a tampered token, an author's id.
    not_given = course.questions["numeric"]
    refused({"seq": 2, "answers": {not_given: {"answer": "1"}}}, 422)
    refused({"seq": 2, "answers": {str(uuid.uuid4()): {"choice": "c1"}}}, 422)
    refused({"seq": 2, "answers": {sc: {"choice": "c99"}}}, 422)
    refused({"seq": 2, "answers": {sc: {"choice": "SECRETb"}}}, 422)
    refused({"seq": 2, "answers": {"not-a-uuid": {"choice": "c1"}}}, 422)
    # Malformed, oversize, deeply nested.
    refused({"seq": 2, "answers": {sc: {"choice": 7}}}, 422)
    refused({"seq": -1, "answers": {}}, 422)
    refused({"seq": 2, "answers": {essay: {"text": "word " * 30_000}}}, 422)
    nested: Any = {}
    for _ in range(200):
        nested = {"x": nested}
    refused({"seq": 2, "answers": {sc: nested}}, 422)
    refused({"seq": 2, "answers": {sc: {"choice": "c1"}}, "extra": 1}, 422)
    # Another student's attempt is not there for them; an outsider neither.
    refused(good, 404, course.student2)
    refused(good, 404, course.outsider)
    assert course.request(course.student2, "GET", url).status_code == 404
    assert course.request(course.student2, "POST", f"{url}/submit").status_code == 404
    # Nothing changed by any of it.
    shown = course.call(course.student, "GET", url)
    assert {q["id"]: q["answer"] for q in shown["questions"]}[sc] == {"choice": "c1"}
    course.call(course.student, "POST", f"{url}/submit")
    after = course.request(course.student, "PUT", f"{url}/answers", json=good | {"seq": 9})
    assert after.status_code == 409


def test_instructor_routes_refuse_tas_students_outsiders_and_demoted_instructors(
    course: Course, node: Node
) -> None:
    quiz = course.quiz(["true_false"])
    bank_questions = f"/api/v1/question-banks/{course.bank}/questions"
    body = {"title": "t", "definition": _definition("true_false")}
    author_routes = [
        ("POST", f"/api/v1/courses/{course.id}/question-banks", {"title": "x"}),
        ("POST", bank_questions, body),
        ("PUT", f"/api/v1/questions/{course.questions['true_false']}", body),
        ("PATCH", f"/api/v1/quizzes/{quiz['id']}", {"title": "y"}),
        ("POST", f"/api/v1/quizzes/{quiz['id']}/release", None),
    ]
    for method, path, payload in author_routes:
        for token in (course.ta, course.student):
            response = course.request(token, method, path, json=payload)
            assert response.status_code == 403, (method, path, response.text)
        assert course.request(course.outsider, method, path, json=payload).status_code in (403, 404)
    grader_routes = [
        f"/api/v1/quizzes/{quiz['id']}/attempts",
        f"/api/v1/quizzes/{quiz['id']}/statistics",
    ]
    for path in grader_routes:
        assert course.request(course.ta, "GET", path).status_code == 200
        assert course.request(course.student, "GET", path).status_code == 403
    # A TA cannot take the quiz; a draft quiz is not there for students.
    assert (
        course.request(course.ta, "POST", f"/api/v1/quizzes/{quiz['id']}/attempts").status_code
        == 403
    )
    draft = course.quiz(["true_false"], published=False)
    assert (
        course.request(course.student, "GET", f"/api/v1/quizzes/{draft['id']}").status_code == 404
    )
    # An instructor demoted to student after their token was minted is refused at once.
    email, token = node.register("instructor")
    code = f"D-{uuid.uuid4().hex[:8]}"
    other = course.call(token, "POST", "/api/v1/courses", json={"code": code, "title": "D"})
    path = f"/api/v1/courses/{other['id']}/question-banks"
    assert course.request(token, "POST", path, json={"title": "ok"}).status_code == 201
    course.call(
        token,
        "POST",
        f"/api/v1/courses/{other['id']}/enrollments",
        json={"email": course.teacher_email, "role": "instructor"},
    )
    me = node.user_id(email)
    course.call(
        course.teacher,
        "DELETE",
        f"/api/v1/courses/{other['id']}/enrollments/{me}",
    )
    assert course.request(token, "POST", path, json={"title": "no"}).status_code in (403, 404)


async def _history(course: Course, quiz_id: str) -> list[tuple[str, str | None, str | None]]:
    """The quiz column's grade changes, oldest first: (reason, old score, new score)."""
    async with node_sessions(course.node) as sessions, sessions() as session:
        column = await gradebook.column_for(session, source="quiz", source_id=uuid.UUID(quiz_id))
        assert column is not None
        page = await history.changes(session, uuid.UUID(course.id), column_id=column)
        return [(c.reason, c.old.get("score"), c.new.get("score")) for c in reversed(page.items)]


async def test_essays_are_graded_by_hand_and_a_key_change_regrades(course: Course) -> None:
    kinds = ["single_choice", "essay"]
    quiz = course.quiz(kinds, max_attempts=None)
    attempt = course.start(quiz["id"])
    sc, essay = course.questions["single_choice"], course.questions["essay"]
    view = {q["id"]: q["view"] for q in attempt["questions"]}[sc]
    gamma = _by_text(view["choices"], "Gamma")
    url = f"/api/v1/attempts/{attempt['id']}"
    answers = {sc: {"choice": gamma}, essay: {"text": "A thoughtful answer."}}
    course.call(course.student, "PUT", f"{url}/answers", json={"seq": 1, "answers": answers})
    done = course.call(course.student, "POST", f"{url}/submit")
    assert done["score"] == 0.0 and done["pending"] == 1
    queue = course.call(
        course.ta, "GET", f"/api/v1/quizzes/{quiz['id']}/grading", params={"question_id": essay}
    )
    assert [i["attempt_id"] for i in queue["items"]] == [attempt["id"]]
    assert queue["items"][0]["response"] == {"text": "A thoughtful answer."}
    too_much = course.request(
        course.ta, "POST", f"{url}/questions/{essay}/grade", json={"score": 50}
    )
    assert too_much.status_code == 422
    graded = course.call(
        course.ta, "POST", f"{url}/questions/{essay}/grade", json={"score": 1.5, "comment": "Good"}
    )
    assert graded["score"] == 1.5 and graded["pending"] == 0
    assert (
        course.request(course.student, "POST", f"{url}/questions/{essay}/grade", json={"score": 2})
    ).status_code == 403
    # The key was wrong: Gamma is right. The attempt is regraded; the essay's grade stands.
    fixed = _definition("single_choice", answer="SECRETc")
    changed = course.call(
        course.teacher,
        "PUT",
        f"/api/v1/questions/{sc}",
        json={"title": "single_choice", "tags": ["all"], "definition": fixed},
    )
    assert changed["version"] == 2 and changed["regraded_attempts"] >= 1
    regraded = course.call(course.teacher, "GET", url)
    assert regraded["score"] == 3.5
    assert regraded["key"][sc]["version"] == 2
    # Every change reached the gradebook with its reason, old and new score.
    assert await _history(course, quiz["id"]) == [
        ("auto-graded", None, "0.00"),
        ("manual grading", "0.00", "1.50"),
        ("regrade: key changed", "1.50", "3.50"),
    ]
    # A type change is refused.
    wrong = {"title": "x", "definition": _definition("true_false")}
    assert (
        course.request(course.teacher, "PUT", f"/api/v1/questions/{sc}", json=wrong).status_code
        == 422
    )
    # Put the key back for the other tests (a regrade again).
    course.call(
        course.teacher,
        "PUT",
        f"/api/v1/questions/{sc}",
        json={
            "title": "single_choice",
            "tags": ["all"],
            "definition": _definition("single_choice"),
        },
    )


def test_pools_draw_per_attempt_and_attempts_and_time_follow_accommodations(
    course: Course,
) -> None:
    slots = [{"bank_id": course.bank, "count": 3, "tags": ["all"]}]
    body = {
        "title": "Pool",
        "published": True,
        "slots": slots,
        "max_attempts": 1,
        "time_limit_seconds": 600,
        "shuffle_questions": True,
    }
    quiz = course.call(course.teacher, "POST", f"/api/v1/courses/{course.id}/quizzes", json=body)
    first = course.start(quiz["id"])
    assert len(first["questions"]) == 3
    course.call(course.student, "POST", f"/api/v1/attempts/{first['id']}/submit")
    refused = course.request(course.student, "POST", f"/api/v1/quizzes/{quiz['id']}/attempts")
    assert refused.status_code == 409
    course.call(
        course.teacher,
        "PUT",
        f"/api/v1/quizzes/{quiz['id']}/accommodations/{course.student_id}",
        json={"extra_seconds": 300, "extra_attempts": 1},
    )
    second = course.start(quiz["id"])
    started = datetime.fromisoformat(second["started_at"])
    assert datetime.fromisoformat(second["deadline"]) - started == timedelta(seconds=900)
    mine = course.call(course.student, "GET", f"/api/v1/quizzes/{quiz['id']}/me")
    assert mine["attempts_left"] == 0 and mine["active_attempt"] == second["id"]
    # A pool asked for more than it holds cannot be published.
    too_many = [{"bank_id": course.bank, "count": 40}]
    response = course.request(
        course.teacher, "PATCH", f"/api/v1/quizzes/{quiz['id']}", json={"slots": too_many}
    )
    assert response.status_code == 409 and response.json()["wanted"] == 40


def test_statistics_and_the_quiz_item_in_a_module(course: Course) -> None:
    quiz = course.quiz(["single_choice", "true_false"], max_attempts=None)
    module = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/modules",
        json={"title": "Week 1", "published": True},
    )
    item = course.call(
        course.teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={"kind": "quiz", "title": "Quiz 1", "target_id": quiz["id"], "published": True},
    )
    assert item["requirement"] == "submit"
    for token, right in ((course.student, True), (course.student2, False)):
        attempt = course.start(quiz["id"], token)
        answers = _correct_answers(attempt, course.questions)
        if not right:
            answers = {course.questions["true_false"]: {"answer": False}}
        course.call(
            token,
            "PUT",
            f"/api/v1/attempts/{attempt['id']}/answers",
            json={"seq": 1, "answers": answers},
        )
        course.call(token, "POST", f"/api/v1/attempts/{attempt['id']}/submit")
    stats = course.call(course.teacher, "GET", f"/api/v1/quizzes/{quiz['id']}/statistics")
    assert stats["attempts"] == 2 and sum(stats["distribution"]) == 2
    assert stats["distribution"][9] == 1 and stats["distribution"][0] == 1
    assert {i["difficulty"] for i in stats["items"]} == {0.5}
    assert all(i["discrimination"] == 1.0 for i in stats["items"])
    content = course.call(course.student, "GET", f"/api/v1/courses/{course.id}/content")
    shown = next(i for m in content["modules"] for i in m["items"] if i["id"] == item["id"])
    assert shown["progress"]["submitted"] and shown["progress"]["completed"]
    # An item cannot show another course's quiz or a made-up one.
    bad = course.request(
        course.teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={"kind": "quiz", "title": "x", "target_id": str(uuid.uuid4())},
    )
    assert bad.status_code == 422


def test_question_preview_and_bank_listing(course: Course) -> None:
    preview = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/question-preview",
        json={"definition": _definition("single_choice"), "response": {"choice": "c1"}},
    )
    assert "SECRETb" not in json.dumps(preview["view"])
    assert preview["result"]["points"] == 2
    invalid = course.request(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/question-preview",
        json={"definition": {"type": "single_choice", "prompt": "x", "choices": []}},
    )
    assert invalid.status_code == 422 and invalid.json()["errors"]
    unknown = course.request(
        course.teacher,
        "POST",
        f"/api/v1/question-banks/{course.bank}/questions",
        json={"title": "x", "definition": {"type": "telepathy", "prompt": "?"}},
    )
    assert unknown.status_code == 422
    page = course.call(
        course.teacher,
        "GET",
        f"/api/v1/question-banks/{course.bank}/questions",
        params={"limit": 5, "tag": "all"},
    )
    assert len(page["items"]) == 5 and page["next"]
    rest = course.call(
        course.teacher,
        "GET",
        f"/api/v1/question-banks/{course.bank}/questions",
        params={"limit": 100, "tag": "all", "cursor": page["next"]},
    )
    assert len(page["items"]) + len(rest["items"]) >= len(RAW)
    tagged = course.call(
        course.teacher,
        "GET",
        f"/api/v1/question-banks/{course.bank}/questions",
        params={"tag": "essay"},
    )
    assert [q["type"] for q in tagged["items"]] == ["essay"]
    assert (
        course.request(
            course.student, "GET", f"/api/v1/question-banks/{course.bank}/questions"
        ).status_code
        == 403
    )
