"""The load generator of the assessments benchmark: students taking a timed quiz over HTTP.

Runs in worker processes (``spawn``) so the client is not the bottleneck on a small
machine: each process drives its share of the students with asyncio, each student on its
own HTTP/1.1 keep-alive connection (``kits.rawhttp``: httpx costs more CPU per request than
the node spends on a save, and the load generator shares the machine's cores with the node
it measures), and returns its latencies, the answers the server confirmed, and its own CPU
time.

A student starts at its slot of the ramp, autosaves one answer every ``interval`` seconds
(cycling through the attempt's questions, each value unique to the student and the save),
and submits at its deadline. An answer counts as confirmed only when the save's response
lists it in ``saved``; the benchmark later reads every attempt back and compares.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import httpx
import orjson

from kits.rawhttp import Client, Response

T = TypeVar("T")
SUBMIT_EARLY = 0.5
"""Seconds before its deadline a student submits (the request must arrive in time)."""


@dataclass
class Plan:
    """What one worker process does (picklable)."""

    url: str
    quiz_id: str
    students: list[tuple[int, str]]  # (index, access token)
    start_at: float  # wall clock (time.time()) of the ramp's first start
    ramp: float  # seconds over which all the students start
    total: int  # students in the whole run (the ramp's slots)
    interval: float  # seconds between a student's autosaves


@dataclass
class Outcome:
    """What one worker process measured (picklable)."""

    start_ms: list[float] = field(default_factory=list)
    save_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    submit_sent_at: list[float] = field(default_factory=list)  # wall clock, as submit_ms
    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # 503s, each sent again later
    confirmed: dict[str, dict[str, str]] = field(default_factory=dict)  # attempt -> q -> value
    attempts: dict[int, str] = field(default_factory=dict)  # student index -> attempt id
    saves_sent: int = 0
    cpu_seconds: float = 0.0


def answer_value(kind: str, student: int, save: int) -> str:
    """A value unique to (student, save) that the question's type accepts as typed."""
    return f"{student}.{save:05d}" if kind == "numeric" else f"s{student} save {save}"


async def send(
    http: Client,
    method: str,
    url: str,
    refused: dict[str, int],
    what: str,
    give_up_at: float | None = None,
    *,
    headers: dict[str, str],
    json: Any = None,
) -> Response:
    """One request, sent again after each 503 once its Retry-After has passed (doubling,
    with jitter, as the quiz page does), until it is answered otherwise or ``give_up_at``
    (time.time()) comes; each 503 is counted in ``refused[what]``."""
    failures = 0
    body = b"" if json is None else orjson.dumps(json)
    if json is not None:
        headers = {**headers, "content-type": "application/json"}
    while True:
        response = await http.request(method, url, headers, body)
        if response.status != 503:
            return response
        failures += 1
        refused[what] = refused.get(what, 0) + 1
        asked = float(response.headers.get("retry-after", "1"))
        grown = min(30.0, asked * 2 ** (failures - 1))
        wait = grown / 2 + random.random() * grown / 2 + asked / 2
        if give_up_at is not None and time.time() + wait > give_up_at:
            return response
        await asyncio.sleep(wait)


def _error(outcome: Outcome, what: str, response: Response | Exception) -> None:
    code = response.status if isinstance(response, Response) else type(response).__name__
    key = f"{what} {code}"
    outcome.errors[key] = outcome.errors.get(key, 0) + 1


async def _student(plan: Plan, index: int, token: str, outcome: Outcome) -> None:
    address = httpx.URL(plan.url)
    http = Client(address.host, address.port or 80)
    try:
        await _take(http, plan, index, token, outcome)
    finally:
        await http.close()


async def _take(http: Client, plan: Plan, index: int, token: str, outcome: Outcome) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(max(0.0, plan.start_at + plan.ramp * index / plan.total - time.time()))
    began = time.perf_counter()
    try:
        started = await send(
            http,
            "POST",
            f"/api/v1/quizzes/{plan.quiz_id}/attempts",
            outcome.refused,
            "start",
            headers=headers,
        )
    except OSError as exc:
        _error(outcome, "start", exc)
        return
    outcome.start_ms.append((time.perf_counter() - began) * 1000)
    if started.status not in (200, 201):
        _error(outcome, "start", started)
        return
    attempt = started.json()
    attempt_id = attempt["id"]
    outcome.attempts[index] = attempt_id
    questions = [(q["id"], q["view"]["type"]) for q in attempt["questions"]]
    deadline = datetime.fromisoformat(attempt["deadline"]).timestamp()
    confirmed = outcome.confirmed.setdefault(attempt_id, {})
    save = 0
    # A student's first save comes at a random-looking offset so saves are spread evenly.
    next_save = time.time() + (index % int(plan.interval * 10)) / 10
    while True:
        now = time.time()
        submit_at = deadline - SUBMIT_EARLY
        if next_save >= submit_at:
            await asyncio.sleep(max(0.0, submit_at - now))
            break
        await asyncio.sleep(max(0.0, next_save - now))
        next_save += plan.interval
        question_id, kind = questions[save % len(questions)]
        save += 1
        value = answer_value(kind, index, save)
        body = {"seq": save, "answers": {question_id: {"answer": value}}}
        outcome.saves_sent += 1
        began = time.perf_counter()
        try:
            saved = await send(
                http,
                "PUT",
                f"/api/v1/attempts/{attempt_id}/answers",
                outcome.refused,
                "save",
                give_up_at=deadline,
                json=body,
                headers=headers,
            )
        except OSError as exc:
            _error(outcome, "save", exc)
            continue
        outcome.save_ms.append((time.perf_counter() - began) * 1000)
        if saved.status != 200:
            _error(outcome, "save", saved)
            continue
        if question_id in saved.json()["saved"]:
            confirmed[question_id] = value
    began, sent_at = time.perf_counter(), time.time()
    try:
        submitted = await send(
            http,
            "POST",
            f"/api/v1/attempts/{attempt_id}/submit",
            outcome.refused,
            "submit",
            headers=headers,
        )
    except OSError as exc:
        _error(outcome, "submit", exc)
        return
    outcome.submit_ms.append((time.perf_counter() - began) * 1000)
    outcome.submit_sent_at.append(sent_at)
    if submitted.status != 200 or submitted.json()["status"] != "submitted":
        _error(outcome, "submit", submitted)


def in_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on uvloop when installed (the worker process's whole life)."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    return asyncio.run(work)


async def _run(plan: Plan) -> Outcome:
    outcome = Outcome()
    await asyncio.gather(*(_student(plan, i, tok, outcome) for i, tok in plan.students))
    return outcome


def run_worker(plan: Plan) -> Outcome:
    """One worker process: drive ``plan.students`` to the end, return what was measured."""
    outcome = in_loop(_run(plan))
    outcome.cpu_seconds = time.process_time()
    return outcome


@dataclass
class BurstPlan:
    """Flat-out saves by a few students on an untimed quiz (the throughput phase)."""

    url: str
    quiz_id: str
    students: list[tuple[int, str]]
    seconds: float


@dataclass
class BurstOutcome:
    saves: int = 0
    errors: int = 0
    refused: int = 0  # 503s (the node's line full)
    elapsed: float = 0.0
    save_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    windows: list[int] = field(default_factory=list)  # saves confirmed per WINDOW seconds


WINDOW = 5.0


async def _burst(plan: BurstPlan) -> BurstOutcome:
    outcome = BurstOutcome()
    address = httpx.URL(plan.url)
    clients = [Client(address.host, address.port or 80) for _ in plan.students]

    async def begin(http: Client, token: str) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
        headers = {"Authorization": f"Bearer {token}"}
        path = f"/api/v1/quizzes/{plan.quiz_id}/attempts"
        started = await send(http, "POST", path, {}, "start", headers=headers)
        if started.status not in (200, 201):
            raise RuntimeError(f"start {started.status}: {started.body[:200]!r}")
        body: dict[str, Any] = started.json()
        return body["id"], headers, [(q["id"], q["view"]["type"]) for q in body["questions"]]

    async def one(
        http: Client,
        student: int,
        attempt_id: str,
        headers: dict[str, str],
        questions: list[tuple[str, str]],
    ) -> None:
        target = f"/api/v1/attempts/{attempt_id}/answers"
        fixed = {**headers, "content-type": "application/json"}
        seq = 0
        while time.perf_counter() < stop:
            question_id, kind = questions[seq % len(questions)]
            seq += 1
            answer = {question_id: {"answer": answer_value(kind, student, seq)}}
            body = orjson.dumps({"seq": seq, "answers": answer})
            sent = time.perf_counter()
            try:
                got = await http.request("PUT", target, fixed, body)
            except OSError:
                outcome.errors += 1
                continue
            outcome.save_ms.append((time.perf_counter() - sent) * 1000)
            if got.status == 200:
                outcome.saves += 1
                window = int((time.perf_counter() - began) // WINDOW)
                outcome.windows.extend([0] * (window + 1 - len(outcome.windows)))
                outcome.windows[window] += 1
            elif got.status == 503:  # flat out: wait as asked, then go on
                outcome.refused += 1
                await asyncio.sleep(float(got.headers.get("retry-after", "1")))
            else:
                outcome.errors += 1

    try:
        ready = await asyncio.gather(
            *(begin(http, token) for http, (_, token) in zip(clients, plan.students, strict=True))
        )
        began = time.perf_counter()
        stop = began + plan.seconds
        indexes = (index for index, _ in plan.students)
        await asyncio.gather(
            *(one(http, i, *r) for http, i, r in zip(clients, indexes, ready, strict=True))
        )
        outcome.elapsed = time.perf_counter() - began
    finally:
        await asyncio.gather(*(http.close() for http in clients))
    return outcome


def run_burst(plan: BurstPlan) -> BurstOutcome:
    """One worker process of the throughput phase."""
    outcome = in_loop(_burst(plan))
    outcome.cpu_seconds = time.process_time()
    return outcome
