"""Autosaves by group commit (SQLite and PostgreSQL): many students saving at once each get
their answers confirmed, and every confirmed answer reads back; saves of one attempt sent
together keep the newest by sequence number whatever order they commit in; a save racing
the submission is either in the graded attempt or refused, never lost after a confirmation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kits.nodes import Node
from tests.assessments.test_quiz_api import Course

pytestmark = pytest.mark.postgres
STUDENTS = 6
SAVES = 5


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


def _students(course: Course, count: int) -> list[str]:
    tokens = []
    for _ in range(count):
        email, token = course.node.register()
        course.call(
            course.teacher,
            "POST",
            f"/api/v1/courses/{course.id}/enrollments",
            json={"email": email, "role": "student"},
        )
        tokens.append(token)
    return tokens


async def _save(
    http: httpx.AsyncClient, token: str, attempt: str, seq: int, answers: dict[str, Any]
) -> httpx.Response:
    return await http.put(
        f"/api/v1/attempts/{attempt}/answers",
        json={"seq": seq, "answers": answers},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_concurrent_saves_are_confirmed_and_read_back(course: Course) -> None:
    quiz = course.quiz(["short_answer", "numeric", "essay"], max_attempts=None)
    tokens = _students(course, STUDENTS)
    attempts = [course.start(quiz["id"], token) for token in tokens]
    short = course.questions["short_answer"]
    essay = course.questions["essay"]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=course.node.url, timeout=60) as http:
            calls = [
                _save(http, token, a["id"], seq, {short: {"answer": f"{n} {seq}"}})
                for n, (token, a) in enumerate(zip(tokens, attempts, strict=True))
                for seq in range(1, SAVES + 1)
            ]
            # Two saves of one answer at once, the older sent last: the newer stays.
            calls.append(_save(http, tokens[0], attempts[0]["id"], 50, {essay: {"text": "new"}}))
            calls.append(_save(http, tokens[0], attempts[0]["id"], 40, {essay: {"text": "old"}}))
            return await asyncio.gather(*calls)

    answers = asyncio.run(run())
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers if r.is_error]
    stale = answers[-1].json()
    assert stale["saved"] in ([], [essay]) and len(stale["saved"]) + len(stale["stale"]) == 1
    for n, (token, a) in enumerate(zip(tokens, attempts, strict=True)):
        shown = course.call(token, "GET", f"/api/v1/attempts/{a['id']}")
        mine = {q["id"]: q["answer"] for q in shown["questions"]}
        assert mine[short] == {"answer": f"{n} {SAVES}"}
    first = course.call(tokens[0], "GET", f"/api/v1/attempts/{attempts[0]['id']}")
    assert {q["id"]: q["answer"] for q in first["questions"]}[essay] == {"text": "new"}


def test_a_save_racing_the_submission_is_graded_or_refused(course: Course) -> None:
    quiz = course.quiz(["short_answer"], max_attempts=None)
    (token,) = _students(course, 1)
    attempt = course.start(quiz["id"], token)
    short = course.questions["short_answer"]

    async def run() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=course.node.url, timeout=60) as http:
            headers = {"Authorization": f"Bearer {token}"}
            saved, submitted = await asyncio.gather(
                _save(http, token, attempt["id"], 1, {short: {"answer": "SECRET answer"}}),
                http.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers),
            )
            return saved, submitted

    saved, submitted = asyncio.run(run())
    assert submitted.status_code == 200, submitted.text
    assert saved.status_code in (200, 409), saved.text
    graded = course.call(course.teacher, "GET", f"/api/v1/attempts/{attempt['id']}")
    kept = {q["id"]: q["answer"] for q in graded["questions"]}[short]
    if saved.status_code == 200:
        assert kept == {"answer": "SECRET answer"}
        assert graded["results"][short]["score"] == graded["results"][short]["points"]
    else:
        assert kept is None
