"""Assessments benchmark (issue 19): a timed quiz taken by many students at once.

On SQLite and on PostgreSQL (a throwaway cluster on a free port, as the tests' kits start
one), each against a real node (``liveclass serve`` on a free port):

* **timed quiz**: ``--students`` (1,000) start a 20-question quiz with a time limit of
  ``--minutes`` within ``--ramp`` seconds (60), autosave one answer every ``--interval``
  seconds (10) and submit at their deadline. p50/p99 of start, save and submit latency;
  every attempt is then read back from the database and each answer the server confirmed
  (listed in the save's ``saved``) is compared: ``lost`` answers (confirmed, not stored
  with the confirmed value), ``duplicated`` answers (more than one row for an attempt and
  question) and students with more than one attempt, or with an attempt left open, must
  all be 0. Server CPU from /proc/PID/stat over the phase.
* **throughput**: ``--burst-students`` (100) save one answer per request as fast as they
  can for ``--burst-seconds`` on an untimed quiz: the node's answer rows per second.
* **ceiling** in the same run, on the same database and driver (SQLAlchemy's aiosqlite or
  asyncpg engine, made by ``persistence.engine.create_engine`` as the node makes it): a
  bare loop inserting rows shaped like ``attempt_answers``, batched as the node commits
  them: the node writes autosaves by group commit (one writer, ``lms.assessments.autosave``),
  so the ceiling is one loop writing transactions of the node's mean batch in the
  throughput phase (its /metrics counters), one statement per row. The result is the
  ratio of the node's rows per second to the ceiling's. Also the issue's own wording, "a
  bare insert loop of the same rows": one row per transaction, from one loop and from as
  many loops as the node's pool has connections; ``ratio_to_bare_insert_loop`` is against
  the faster of the two (docs/benchmarks.md says which ratio the target is judged by).

The load comes from ``--procs`` worker processes (asyncio + httpx, HTTP/1.1 keep-alive),
whose CPU is reported so a saturated client shows.

    flock /tmp/liveclass-bench.lock python bench/assessments.py            # ~25 minutes
    flock /tmp/liveclass-bench.lock python bench/assessments.py --quick    # ~5 minutes
    python bench/assessments.py --students 300 --minutes 2 --backends sqlite

Targets: p99 submit < 250 ms; the node's rows/s >= 50% of the ceiling's.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the kits: tests/kits)
import httpx
import orjson
from assesskit.load import BurstOutcome, BurstPlan, Outcome, Plan, run_burst, run_worker
from sqlalchemy import Column, MetaData, Table, func, insert, select

from kits.bench import BenchNode, bearer, percentile, post, progress, student_email
from kits.servers import start_postgres
from kits.stats import cpu_seconds_or_zero
from lms.accounts.tokens import mint_access_token
from persistence.engine import create_engine
from persistence.models import AttemptAnswer, QuizAttempt, User
from persistence.models.base import utcnow

QUESTIONS = 20
SECRET = "b" * 48
TOKEN_TTL = 86_400
POOL = 10  # the node's LIVECLASS_DB_POOL_SIZE (the default), and the ceiling's tasks


def _question(number: int) -> dict[str, Any]:
    """Even numbers numeric (tolerance and unit-free), odd numbers short answer."""
    prompt = f"Question {number}?"
    if number % 2 == 0:
        definition = {"type": "numeric", "prompt": prompt, "value": "1.5", "tolerance": "0.1"}
    else:
        definition = {"type": "short_answer", "prompt": prompt, "accepted": [{"text": "yes"}]}
    return {"title": f"Q{number}", "tags": ["bench"], "definition": definition}


async def _students(node: BenchNode, url: str, count: int) -> list[str]:
    """Access tokens of ``count`` students. The first registers through the API; the others
    are rows copied from it (same password hash: argon2 for a thousand sign-ups would take
    minutes here and is not what is measured), with tokens minted as the node mints them."""
    node.student(0)
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            first = (await db.execute(select(User).where(User.email == student_email(0)))).one()
            rows = [
                {
                    "id": uuid.uuid4(),
                    "email": student_email(i),
                    "name": f"Student {i}",
                    "password_hash": first.password_hash,
                    "role": "student",
                }
                for i in range(1, count)
            ]
            await db.execute(insert(User), rows)
    finally:
        await engine.dispose()
    ids = [first.id] + [r["id"] for r in rows]
    now = utcnow()
    return [
        mint_access_token(
            secret=SECRET, user_id=i, version=0, now=now, ttl=timedelta(seconds=TOKEN_TTL)
        )
        for i in ids
    ]


async def _setup(node: BenchNode, url: str, students: int, minutes: float) -> dict[str, Any]:
    """Accounts, a course with everyone enrolled, a bank, the timed quiz and an untimed one."""
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=node.url, timeout=120, limits=limits) as http:
        admin = bearer(node.admin_token)
        node.students = await _students(node, url, students)

        async def call(method: str, path: str, body: dict[str, Any]) -> Any:
            got = await http.request(method, path, json=body, headers=admin)
            got.raise_for_status()
            return got.json()

        code = f"B-{uuid.uuid4().hex[:8]}"
        course = (await call("POST", "/api/v1/courses", {"code": code, "title": "Bench"}))["id"]
        gate = asyncio.Semaphore(8)

        async def enroll(index: int) -> None:
            body = {"email": f"student{index}@bench.liveclass", "role": "student"}
            async with gate:
                got = await post(
                    http, f"/api/v1/courses/{course}/enrollments", json=body, headers=admin
                )
            got.raise_for_status()

        await asyncio.gather(*(enroll(i) for i in range(students)))
        bank = await call("POST", f"/api/v1/courses/{course}/question-banks", {"title": "B"})
        ids = [
            (await call("POST", f"/api/v1/question-banks/{bank['id']}/questions", _question(n)))[
                "id"
            ]
            for n in range(QUESTIONS)
        ]
        slots = [{"question_id": q} for q in ids]
        settings = {"published": True, "slots": slots, "max_attempts": None}
        timed = await call(
            "POST",
            f"/api/v1/courses/{course}/quizzes",
            {"title": "Timed", "time_limit_seconds": int(minutes * 60), **settings},
        )
        untimed = await call(
            "POST", f"/api/v1/courses/{course}/quizzes", {"title": "Flat out", **settings}
        )
    return {"course": course, "timed": timed["id"], "untimed": untimed["id"]}


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts) if items[i::parts]]


def _merge(outcomes: list[Outcome]) -> Outcome:
    total = Outcome()
    for o in outcomes:
        total.start_ms += o.start_ms
        total.save_ms += o.save_ms
        total.submit_ms += o.submit_ms
        total.submit_sent_at += o.submit_sent_at
        for key, count in o.errors.items():
            total.errors[key] = total.errors.get(key, 0) + count
        for key, count in o.refused.items():
            total.refused[key] = total.refused.get(key, 0) + count
        total.confirmed.update(o.confirmed)
        total.attempts.update(o.attempts)
        total.saves_sent += o.saves_sent
        total.cpu_seconds += o.cpu_seconds
    return total


async def _verify(url: str, quiz_id: str, outcome: Outcome, students: int) -> dict[str, int]:
    """Read every attempt of the timed quiz back and compare with what was confirmed."""
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            attempts = (
                await db.execute(
                    select(QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.submitted_at).where(
                        QuizAttempt.quiz_id == uuid.UUID(quiz_id)
                    )
                )
            ).all()
            rows = (
                await db.execute(
                    select(
                        AttemptAnswer.attempt_id, AttemptAnswer.question_id, AttemptAnswer.response
                    )
                    .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
                    .where(QuizAttempt.quiz_id == uuid.UUID(quiz_id))
                )
            ).all()
    finally:
        await engine.dispose()
    stored: dict[tuple[str, str], list[Any]] = {}
    for attempt_id, question_id, response in rows:
        stored.setdefault((str(attempt_id), str(question_id)), []).append(response)
    lost = 0
    confirmed = 0
    for attempt_id, answers in outcome.confirmed.items():
        for question_id, value in answers.items():
            confirmed += 1
            found = stored.get((attempt_id, question_id), [])
            if not any(isinstance(r, dict) and r.get("answer") == value for r in found):
                lost += 1
    per_user: dict[Any, int] = {}
    for _id, user_id, _submitted in attempts:
        per_user[user_id] = per_user.get(user_id, 0) + 1
    return {
        "attempts": len(attempts),
        "students_without_attempt": students - len(per_user),
        "students_with_two_attempts": sum(1 for n in per_user.values() if n > 1),
        "attempts_left_open": sum(1 for a in attempts if a[2] is None),
        "answers_confirmed": confirmed,
        "answers_lost": lost,
        "answers_duplicated": sum(len(v) - 1 for v in stored.values() if len(v) > 1),
    }


async def _ceiling(url: str, rows: int, batch: int, tasks: int) -> float:
    """Rows per second of a bare insert loop: ``tasks`` loops, ``batch`` rows per
    transaction (the node's autosave group commit: one writer, its mean batch)."""
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key) for c in AttemptAnswer.__table__.columns
    ]
    table = Table(f"bench_ceiling_{uuid.uuid4().hex[:6]}", MetaData(), *columns)
    engine = create_engine(url, pool_size=max(tasks, 1))
    transactions = max(1, rows // (batch * tasks))
    try:
        async with engine.begin() as db:
            await db.run_sync(table.metadata.create_all)

        async def loop(task: int) -> None:
            for n in range(transactions):
                values = [
                    {
                        "id": uuid.uuid4(),
                        "attempt_id": uuid.uuid4(),
                        "question_id": uuid.uuid4(),
                        "response": {"answer": f"s{task} save {n:05d}.{k}"},
                        "seq": n,
                        "saved_at": utcnow(),
                        "points": 1.0,
                    }
                    for k in range(batch)
                ]
                async with engine.begin() as db:
                    for row in values:  # one statement per row, as the node writes them
                        await db.execute(table.insert(), row)

        began = time.perf_counter()
        await asyncio.gather(*(loop(t) for t in range(tasks)))
        written = transactions * batch * tasks
        rate = written / (time.perf_counter() - began)
        async with engine.begin() as db:
            count = (await db.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == written, count
            await db.run_sync(table.metadata.drop_all)
    finally:
        await engine.dispose()
    return round(rate, 1)


def _autosave_counters(url: str) -> tuple[float, float, float]:
    """The node's autosave batches and saves so far, and its background job runs (its
    /metrics): job runs during the flat-out phase are work left by the timed quiz."""
    text = httpx.get(url + "/metrics", timeout=30).text
    found = {}
    for name in ("batches", "saves"):
        match = re.search(rf"^liveclass_quiz_autosave_{name}_total (\S+)$", text, re.M)
        found[name] = float(match.group(1)) if match else 0.0
    jobs = sum(
        float(v) for v in re.findall(r"^liveclass_job_runs_total\{[^}]*\} (\S+)$", text, re.M)
    )
    return found["batches"], found["saves"], jobs


def _latency(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 0.5),
        "p99_ms": percentile(values, 0.99),
        "max_ms": percentile(values, 1.0),
    }


def node_env(url: str) -> dict[str, str]:
    """The environment of a bench node on ``url``: our secret (the bench mints its students'
    tokens), long-lived tokens, no login throttle, warnings only in the log."""
    return {
        "LIVECLASS_DATABASE_URL": url,
        "LIVECLASS_SECRET_KEY": SECRET,
        "LIVECLASS_ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL),
        "LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000",
        "LIVECLASS_LOG_LEVEL": "warning",
    }


async def _backend(name: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = node_env(url)
    node = BenchNode(tmp / name, env).start(timeout=300)  # a loaded machine starts slowly
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    try:
        quiz = await _setup(node, url, args.students, args.minutes)
        tokens = list(enumerate(node.students))
        # -- the timed quiz
        progress(f"{name}: timed quiz, {args.students} students, {args.minutes} min")
        start_at = time.time() + 3.0
        plans = [
            Plan(node.url, quiz["timed"], part, start_at, args.ramp, args.students, args.interval)
            for part in _split(tokens, args.procs)
        ]
        cpu0, wall0 = cpu_seconds_or_zero(node.pid), time.perf_counter()
        load0 = os.getloadavg()[0]
        with ProcessPoolExecutor(len(plans), mp_context=context) as pool:
            outcome = _merge(
                await asyncio.gather(*(loop.run_in_executor(pool, run_worker, p) for p in plans))
            )
        wall = time.perf_counter() - wall0
        server_cpu = cpu_seconds_or_zero(node.pid) - cpu0
        progress(f"{name}: reading every attempt back")
        checked = await _verify(url, quiz["timed"], outcome, args.students)
        # (wall clock sent, ms) of the ten slowest: to set against the node's log
        slowest = sorted(zip(outcome.submit_ms, outcome.submit_sent_at, strict=True))[-10:]
        timed = {
            "students": args.students,
            "questions": QUESTIONS,
            "minutes": args.minutes,
            "ramp_seconds": args.ramp,
            "save_interval_seconds": args.interval,
            "start": _latency(outcome.start_ms),
            "save": _latency(outcome.save_ms),
            "submit": _latency(outcome.submit_ms),
            "slowest_submits": [(round(at, 3), round(ms, 1)) for ms, at in slowest],
            "saves_sent": outcome.saves_sent,
            "errors": outcome.errors,
            "refused_503_then_retried": outcome.refused,
            **checked,
            "wall_seconds": round(wall, 1),
            "server_cpu_seconds": round(server_cpu, 1),
            "server_cpu_percent_of_a_core": round(100 * server_cpu / wall, 1),
            "client_cpu_seconds": round(outcome.cpu_seconds, 1),
            "loadavg_1m_at_start": round(load0, 2),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        }
        # -- throughput: flat-out saves
        few = tokens[: args.burst_students]
        progress(f"{name}: flat-out saves, {len(few)} students, {args.burst_seconds} s")
        bursts = [
            BurstPlan(node.url, quiz["untimed"], part, args.burst_seconds)
            for part in _split(few, args.procs)
        ]
        cpu0 = cpu_seconds_or_zero(node.pid)
        batches0, saves0, jobs0 = _autosave_counters(node.url)
        with ProcessPoolExecutor(len(bursts), mp_context=context) as pool:
            done: list[BurstOutcome] = await asyncio.gather(
                *(loop.run_in_executor(pool, run_burst, p) for p in bursts)
            )
        batches1, saves1, jobs1 = _autosave_counters(node.url)
        batch = (saves1 - saves0) / max(1.0, batches1 - batches0)
        elapsed = max(b.elapsed for b in done)
        saves = sum(b.saves for b in done)
        node_rate = round(saves / elapsed, 1)
        throughput = {
            "students": len(few),
            "saves": saves,
            "errors": sum(b.errors for b in done),
            "refused_503": sum(b.refused for b in done),
            "rows_per_second": node_rate,
            "save": _latency([ms for b in done for ms in b.save_ms]),
            "server_cpu_percent_of_a_core": round(
                100 * (cpu_seconds_or_zero(node.pid) - cpu0) / elapsed, 1
            ),
            "client_cpu_seconds": round(sum(b.cpu_seconds for b in done), 1),
            "saves_per_commit": round(batch, 1),
            "saves_per_5s": [sum(w) for w in zip_longest(*(b.windows for b in done), fillvalue=0)],
            "background_job_runs": int(jobs1 - jobs0),
        }
        rows_per_commit = max(1, round(batch))
        progress(f"{name}: ceiling (bare inserts, {rows_per_commit} rows per commit)")
        ceiling = await _ceiling(url, args.ceiling_rows, rows_per_commit, 1)
        per_row = await _ceiling(url, args.ceiling_rows // 4, 1, POOL)
        bare = await _ceiling(url, args.ceiling_rows // 4, 1, 1)
        plain = max(per_row, bare)  # the "bare insert loop", the faster reading
        errors = node.log_errors()
    finally:
        node.stop(keep_log=tmp / "logs" if args.keep_logs else None)
    return {
        "timed_quiz": timed,
        "throughput": throughput,
        "ceiling_rows_per_second": ceiling,
        "ceiling_rows_per_commit": rows_per_commit,
        "ceiling_one_row_per_commit_rows_per_second": per_row,
        "ceiling_one_loop_one_row_per_commit_rows_per_second": bare,
        "ratio_to_ceiling": round(node_rate / ceiling, 3),
        "ratio_to_bare_insert_loop": round(node_rate / plain, 3),
        "targets": {
            "p99_submit_under_250_ms": (timed["submit"]["p99_ms"] or 1e9) < 250,
            "half_of_ceiling": node_rate / ceiling >= 0.5,
            "half_of_bare_insert_loop": node_rate / plain >= 0.5,
            "nothing_lost_or_duplicated": checked["answers_lost"] == 0
            and checked["answers_duplicated"] == 0
            and checked["students_with_two_attempts"] == 0
            and checked["attempts_left_open"] == 0,
        },
        "server_errors_logged": errors[:10],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"cpus": os.cpu_count(), "procs": args.procs}
    with tempfile.TemporaryDirectory(prefix="bench-assessments-") as tmp_dir:
        tmp = Path(tmp_dir)
        if "sqlite" in args.backends:
            url = f"sqlite+aiosqlite:///{tmp / 'sqlite.db'}"
            result["sqlite"] = await _backend("sqlite", url, args, tmp)
            progress(f"sqlite: {orjson.dumps(result['sqlite']).decode()}")
        if "postgres" in args.backends:
            server = start_postgres()
            try:
                url = server.create_database()
                result["postgres"] = await _backend("postgres", url, args, tmp)
                server.drop_database(url)
            finally:
                server.stop()
    return result


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=5.0, help="the quiz's time limit")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which all start")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between saves")
    parser.add_argument("--burst-students", type=int, default=100)
    parser.add_argument("--burst-seconds", type=float, default=30.0)
    parser.add_argument("--ceiling-rows", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 100 students, a 1-minute quiz, 10 s ramp, 10 s of flat-out saves",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.minutes, args.ramp = 100, 1.0, 10.0
        args.burst_students, args.burst_seconds, args.ceiling_rows = 50, 10.0, 2000
    return args


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(main(parse(sys.argv[1:]))), option=orjson.OPT_INDENT_2).decode())
