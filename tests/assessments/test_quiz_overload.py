"""Overload is a 503 with Retry-After, never a 500 (SQLite and PostgreSQL): on a node whose
quiz lines are tiny (one request at a time, nobody waiting, one autosave pending), students
starting, saving and submitting at once are refused with a problem document saying when to
try again; trying again succeeds, and every confirmed answer is kept (one attempt each)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from kits.nodes import Node, start_node
from tests.assessments.test_quiz_api import Course

pytestmark = pytest.mark.postgres
STUDENTS = 12
ROUNDS = 30  # bursts tried until one is refused (each burst is STUDENTS requests at once)
TINY = {
    "LIVECLASS_QUIZ_READ_SLOTS": "1",
    "LIVECLASS_QUIZ_WRITE_SLOTS": "1",
    "LIVECLASS_QUIZ_QUEUE": "0",
    "LIVECLASS_QUIZ_AUTOSAVE_MAX_PENDING": "1",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def tiny_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node whose quiz lines hold one request and let nobody wait."""
    yield from start_node(tmp_path_factory.mktemp("tiny"), request.param, request, **TINY)


@pytest.fixture(scope="module")
def course(tiny_node: Node) -> Course:
    return Course(tiny_node)


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


def _refused(response: httpx.Response) -> bool:
    """A 503 problem with Retry-After; anything else but success fails the test."""
    if response.status_code != 503:
        assert response.status_code < 300, response.text
        return False
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["status"] == 503
    return True


Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def _until_done(tokens: list[str], url: str, call: Call) -> tuple[list[Any], int]:
    """Every student's request sent at once, the refused ones again at once, until all
    succeed: their bodies and how many refusals there were."""
    results: list[Any] = [None] * len(tokens)
    refused = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        todo = list(range(len(tokens)))
        for _ in range(ROUNDS):
            answers = await asyncio.gather(*(call(http, i) for i in todo))
            left = []
            for i, response in zip(todo, answers, strict=True):
                if _refused(response):
                    refused += 1
                    left.append(i)
                else:
                    results[i] = response.json()
            todo = left
            if not todo:
                return results, refused
    raise AssertionError(f"{len(todo)} requests still refused after {ROUNDS} rounds")


def test_saturated_lines_answer_503_and_a_retry_succeeds(course: Course) -> None:
    quiz = course.quiz(["short_answer"], max_attempts=1, time_limit_seconds=3600)
    short = course.questions["short_answer"]
    tokens = _students(course, STUDENTS)
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    seen = {"start": 0, "save": 0, "submit": 0}

    async def start(http: httpx.AsyncClient, i: int) -> httpx.Response:
        return await http.post(f"/api/v1/quizzes/{quiz['id']}/attempts", headers=headers[i])

    attempts, seen["start"] = asyncio.run(_until_done(tokens, course.node.url, start))
    ids = [a["id"] for a in attempts]
    assert len(set(ids)) == STUDENTS
    answers: dict[int, str] = {}

    for seq in range(1, ROUNDS + 1):
        if seen["save"]:
            break

        async def save(http: httpx.AsyncClient, i: int, seq: int = seq) -> httpx.Response:
            answers[i] = f"student {i} save {seq}"
            body = {"seq": seq, "answers": {short: {"answer": answers[i]}}}
            return await http.put(
                f"/api/v1/attempts/{ids[i]}/answers", json=body, headers=headers[i]
            )

        saved, refused = asyncio.run(_until_done(tokens, course.node.url, save))
        seen["save"] += refused
        assert all(s["saved"] == [short] for s in saved)

    async def submit(http: httpx.AsyncClient, i: int) -> httpx.Response:
        return await http.post(f"/api/v1/attempts/{ids[i]}/submit", headers=headers[i])

    submitted, seen["submit"] = asyncio.run(_until_done(tokens, course.node.url, submit))
    assert all(s["status"] == "submitted" for s in submitted)
    assert seen["start"] and seen["save"], seen  # the lines were full at least once each
    for i, attempt_id in enumerate(ids):
        graded = course.call(course.teacher, "GET", f"/api/v1/attempts/{attempt_id}")
        assert {q["id"]: q["answer"] for q in graded["questions"]}[short] == {"answer": answers[i]}
        mine = course.call(tokens[i], "GET", f"/api/v1/quizzes/{quiz['id']}/me")
        assert len(mine["attempts"]) == 1
