"""Python code answers of a quiz graded by the sandbox on a real node (SQLite and
PostgreSQL): pending at submission, graded by the ``assessments.grade_code`` job, the
score in the attempt and the gradebook; a key change re-runs the answers; a person's
grade stands."""

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
        emails = []
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
