"""Python code answers of a quiz graded by the sandbox on a real node (SQLite and
PostgreSQL): pending at submission, graded by the ``assessments.grade_code`` job, the
score in the attempt and the gradebook; a key change re-runs the answers; a person's
grade stands. Practice runs (``POST .../questions/{id}/run``): visible tests only, the
learner's open attempt only, throttled, and bad input refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kits.nodes import Node, node_sessions, start_node
from kits.sandbox import shared_cache
from kits.waiting import eventually
from lms.gradebook import history
from lms.gradebook import service as gradebook
from persistence.models import AttemptAnswer, Job

pytestmark = pytest.mark.postgres

TESTS = [
    {"id": "small", "name": "adds", "source": "assert add(1, 2) == 3", "hidden": False},
    {"id": "big", "name": "big", "source": "assert add(10**20, 1) == 10**20 + 1"},
]
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
ENDLESS = "while True:\n    pass\n"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def code_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    cache = str(shared_cache(tmp_path_factory))
    yield from start_node(
        tmp_path_factory.mktemp("node"),
        request.param,
        request,
        LIVECLASS_SANDBOX_CACHE_DIR=cache,
        LIVECLASS_SANDBOX_WORKERS="1",
        LIVECLASS_JOBS_POLL_SECONDS="0.2",
        LIVECLASS_SANDBOX_PRACTICE_BURST="3",
        LIVECLASS_SANDBOX_PRACTICE_RUNS_PER_MINUTE="1",
    )


def definition(tests: list[dict[str, Any]] = TESTS) -> dict[str, Any]:
    return {
        "type": "python_code",
        "prompt": "Write add(a, b).",
        "points": 4,
        "starter_code": "def add(a, b):\n    pass\n",
        "tests": tests,
        "limits": {"wall_ms": 3000, "memory_mb": 64},
    }


class Course:
    """A course with an instructor, three students, and one code question in a quiz."""

    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        self.students: list[str] = []
        self.emails: list[str] = []
        emails = self.emails
        for _ in range(3):
            email, token = node.register()
            emails.append(email)
            self.students.append(token)
        code = f"C-{uuid.uuid4().hex[:8]}"
        body = {"code": code, "title": "Programming"}
        self.id = self.call(self.teacher, "POST", "/api/v1/courses", json=body)["id"]
        for email in emails:
            self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": "student"},
            )
        bank = self.call(
            self.teacher, "POST", f"/api/v1/courses/{self.id}/question-banks", json={"title": "B"}
        )["id"]
        question = {"title": "add", "definition": definition()}
        self.question = self.call(
            self.teacher, "POST", f"/api/v1/question-banks/{bank}/questions", json=question
        )["id"]
        quiz = {
            "title": "Code quiz",
            "published": True,
            "slots": [{"question_id": self.question}],
            "results_release": "immediately",
        }
        self.quiz = self.call(
            self.teacher, "POST", f"/api/v1/courses/{self.id}/quizzes", json=quiz
        )["id"]

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        with self.node.client(token) as client:
            response: httpx.Response = client.request(method, path, **kw)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def submit(self, student: str, code: str) -> dict[str, Any]:
        attempt = self.call(student, "POST", f"/api/v1/quizzes/{self.quiz}/attempts")
        url = f"/api/v1/attempts/{attempt['id']}"
        answers = {self.question: {"code": code}}
        self.call(student, "PUT", f"{url}/answers", json={"seq": 1, "answers": answers})
        return dict(self.call(student, "POST", f"{url}/submit"))

    def attempt(self, token: str, attempt_id: str) -> dict[str, Any]:
        return dict(self.call(token, "GET", f"/api/v1/attempts/{attempt_id}"))

    async def graded(self, token: str, attempt_id: str) -> dict[str, Any]:
        await eventually(
            lambda: self.attempt(token, attempt_id)["pending"] == 0,
            "the sandbox to grade the code answer",
            within=120,
        )
        return self.attempt(token, attempt_id)

    async def history(self) -> list[tuple[str, str | None, str | None]]:
        async with node_sessions(self.node) as sessions, sessions() as session:
            column = await gradebook.column_for(
                session, source="quiz", source_id=uuid.UUID(self.quiz)
            )
            assert column is not None
            page = await history.changes(session, uuid.UUID(self.id), column_id=column)
            return [(c.reason, c.old.get("score"), c.new.get("score")) for c in page.items]


async def test_code_answers_are_graded_by_the_sandbox_and_reach_the_gradebook(
    code_node: Node,
) -> None:
    course = Course(code_node)
    right, wrong, endless = course.students
    submitted = {
        token: course.submit(token, code)
        for token, code in ((right, RIGHT), (wrong, WRONG), (endless, ENDLESS))
    }
    for body in submitted.values():  # submission does not wait for the sandbox
        assert body["status"] == "submitted"
    scores = {}
    for token, body in submitted.items():
        graded = await course.graded(token, body["id"])
        scores[token] = graded["score"]
        assert graded["results"][course.question]["status"] == "graded"
    assert scores == {right: 4.0, wrong: 0.0, endless: 0.0}
    reasons = [reason for reason, _, _ in await course.history()]
    assert reasons.count("code graded by the sandbox") >= 1

    # The key changes: the hidden test now expects subtraction; every code answer re-runs.
    flipped = [
        {"id": "small", "name": "subtracts", "source": "assert add(3, 1) == 2", "hidden": False}
    ]
    changed = course.call(
        course.teacher,
        "PUT",
        f"/api/v1/questions/{course.question}",
        json={"title": "add", "definition": definition(flipped)},
    )
    assert changed["version"] == 2
    await eventually(
        lambda: course.attempt(wrong, submitted[wrong]["id"])["score"] == 4.0,
        "the regrade's run of the subtracting answer",
        within=120,
    )
    await eventually(
        lambda: course.attempt(right, submitted[right]["id"])["score"] == 0.0,
        "the regrade's run of the adding answer",
        within=120,
    )
    changes = await course.history()
    assert ("regrade: key changed", "4.00", "0.00") in changes
    assert ("regrade: key changed", "0.00", "4.00") in changes


async def test_a_persons_grade_stands_over_the_sandbox(code_node: Node) -> None:
    course = Course(code_node)
    student = course.students[0]
    body = course.submit(student, WRONG)
    graded = await course.graded(student, body["id"])
    assert graded["score"] == 0.0
    url = f"/api/v1/attempts/{body['id']}/questions/{course.question}/grade"
    course.call(course.teacher, "POST", url, json={"score": 3, "comment": "Close enough"})
    course.call(
        course.teacher,
        "PUT",
        f"/api/v1/questions/{course.question}",
        json={"title": "add", "definition": definition(TESTS[:1])},
    )
    # Whatever the regrade queued for this answer has run (a succeeded job leaves no row),
    # and the person's grade stands.
    async with node_sessions(code_node) as sessions:

        async def no_runs_left() -> bool:
            async with sessions() as session:
                answer = await session.scalar(
                    select(AttemptAnswer.id).where(
                        AttemptAnswer.attempt_id == uuid.UUID(body["id"])
                    )
                )
                jobs = await session.scalars(
                    select(Job).where(Job.name == "assessments.grade_code")
                )
                return not [j for j in jobs.all() if j.args.get("answer_id") == str(answer)]

        await eventually(no_runs_left, "the answer's queued runs to finish", within=120)
    again = course.attempt(student, body["id"])
    assert again["score"] == 3.0 and again["pending"] == 0


def test_a_practice_run_tries_the_visible_tests_only(code_node: Node) -> None:
    course = Course(code_node)
    student, other, _ = course.students
    attempt = course.call(student, "POST", f"/api/v1/quizzes/{course.quiz}/attempts")
    run_url = f"/api/v1/attempts/{attempt['id']}/questions/{course.question}/run"
    ran = course.request(student, "POST", run_url, json={"code": RIGHT + "print('hi')"})
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["status"] == "completed"
    assert body["tests"] == [{"id": "small", "passed": True, "message": ""}]
    assert "hi" in body["output"]
    assert "big" not in ran.text  # the hidden test is not even run
    wrong = course.call(student, "POST", run_url, json={"code": WRONG})
    assert wrong["tests"][0]["passed"] is False
    assert "test line 1" in wrong["tests"][0]["message"]
    # Nothing was saved: the attempt's answer is still empty.
    shown = course.call(student, "GET", f"/api/v1/attempts/{attempt['id']}")
    assert all(q["answer"] is None for q in shown["questions"])
    # The third run in a burst of three is the last: then 429 with Retry-After.
    assert (
        course.request(student, "POST", run_url, json={"code": ENDLESS}).json()["status"]
        == "timeout"
    )
    throttled = course.request(student, "POST", run_url, json={"code": RIGHT})
    assert throttled.status_code == 429
    assert throttled.headers["content-type"].startswith("application/problem+json")
    assert int(throttled.headers["retry-after"]) > 0
    # Another learner has their own allowance (but not this attempt).
    theirs = course.call(other, "POST", f"/api/v1/quizzes/{course.quiz}/attempts")
    other_url = f"/api/v1/attempts/{theirs['id']}/questions/{course.question}/run"
    assert course.request(other, "POST", other_url, json={"code": RIGHT}).status_code == 200
    assert course.request(other, "POST", run_url, json={"code": RIGHT}).status_code == 404


def test_practice_runs_refuse_bad_input_and_the_wrong_people(code_node: Node) -> None:
    course = Course(code_node)
    student, _, _ = course.students
    attempt = course.call(student, "POST", f"/api/v1/quizzes/{course.quiz}/attempts")
    base = f"/api/v1/attempts/{attempt['id']}/questions"
    url = f"{base}/{course.question}/run"
    nested: Any = "x"
    for _ in range(200):
        nested = {"code": nested}
    for payload in (
        {"code": "x" * 64_001},  # oversized
        {"code": 42},
        {"code": RIGHT, "extra": 1},
        {},
        nested,  # deeply nested
        [RIGHT],
    ):
        refused = course.request(student, "POST", url, json=payload)
        assert refused.status_code == 422, (str(payload)[:60], refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    garbage = course.request(
        student, "POST", url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422
    # A question the attempt was not given, an attempt that does not exist.
    not_given = course.request(student, "POST", f"{base}/{uuid.uuid4()}/run", json={"code": ""})
    assert not_given.status_code == 422
    missing = f"/api/v1/attempts/{uuid.uuid4()}/questions/{course.question}/run"
    assert course.request(student, "POST", missing, json={"code": ""}).status_code == 404
    # Nobody, the course's instructor (not the learner), an outsider.
    assert course.request(None, "POST", url, json={"code": RIGHT}).status_code == 401
    assert course.request(course.teacher, "POST", url, json={"code": RIGHT}).status_code == 403
    _, outsider = code_node.register()
    assert course.request(outsider, "POST", url, json={"code": RIGHT}).status_code == 404
    # Unenrolled after the token was minted: refused at once.
    me = code_node.user_id(course.emails[0])
    course.call(course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{me}")
    assert course.request(student, "POST", url, json={"code": RIGHT}).status_code == 404
