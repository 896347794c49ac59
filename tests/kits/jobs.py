"""Jobs test kit: job types, an event type and consumers for the jobs tests, loadable by a
live node or a `liveclass worker` process through LIVECLASS_JOBS_MODULES=kits.jobs (with
tests/ on PYTHONPATH); database fixtures of both backends; waiting for conditions.

Their effects land in two tables the tests create: ``test_attempts`` gets a row per run
(not idempotent: it shows double runs) and ``test_effects`` one per key (idempotent: the
effect that must happen once).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs.errors import PermanentFailure
from jobs.events import Catalogue, Consumer, Event, EventType
from jobs.retry import Backoff
from jobs.types import JobContext, JobRegistry, JobType
from kits.servers import PostgresServer, copy_migrated_sqlite, postgres_database
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker
from persistence.models.base import utcnow
from persistence.transient import is_transient

Sessions = async_sessionmaker[AsyncSession]

TABLES = (
    "CREATE TABLE IF NOT EXISTS test_attempts (key VARCHAR(200) NOT NULL, pid INTEGER NOT NULL, "
    "at VARCHAR(40) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS test_effects (key VARCHAR(200) PRIMARY KEY, pid INTEGER NOT NULL, "
    "at VARCHAR(40) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_stamps (key VARCHAR(200) NOT NULL, started FLOAT NOT NULL)",
)
FAST = Backoff(base=0.02, cap=0.1)


def outbox(data_dir: Path, event_type: str) -> list[dict[str, Any]]:
    """The payloads of ``event_type`` in a SQLite node's outbox (read-only, in order)."""
    import json
    import sqlite3

    database = sqlite3.connect(f"file:{data_dir.resolve() / 'liveclass.db'}?mode=ro", uri=True)
    try:
        found = database.execute(
            "SELECT payload FROM domain_events WHERE type = ? ORDER BY seq", (event_type,)
        ).fetchall()
    finally:
        database.close()
    return [json.loads(payload) for (payload,) in found]


async def create_tables(engine: AsyncEngine) -> None:
    """The effect tables, in the test's database."""
    async with engine.begin() as connection:
        for statement in TABLES:
            await connection.execute(text(statement))


async def attempt(session: AsyncSession, key: str) -> None:
    """Record a run of ``key`` (every run adds a row)."""
    await session.execute(
        text("INSERT INTO test_attempts (key, pid, at) VALUES (:k, :p, :a)"),
        {"k": key, "p": os.getpid(), "a": utcnow().isoformat()},
    )


async def effect(session: AsyncSession, key: str) -> None:
    """Make the effect of ``key`` (once, however often it is asked)."""
    await session.execute(
        text("INSERT INTO test_effects (key, pid, at) VALUES (:k, :p, :a) ON CONFLICT DO NOTHING"),
        {"k": key, "p": os.getpid(), "a": utcnow().isoformat()},
    )


async def run_effect(ctx: JobContext) -> None:
    """Record the attempt, wait ``sleep`` seconds (a long job), then make the effect."""
    key = str(ctx.args["key"])
    async with ctx.sessions() as session:
        await attempt(session, key)
        await session.commit()
    await asyncio.sleep(float(ctx.args.get("sleep", 0)))
    async with ctx.sessions() as session:
        await effect(session, key)
        await session.commit()


async def run_fail(ctx: JobContext) -> None:
    """Fail every time (after recording the attempt)."""
    async with ctx.sessions() as session:
        await attempt(session, str(ctx.args.get("key", "fail")))
        await session.commit()
    if ctx.args.get("permanent"):
        raise PermanentFailure("this cannot work")
    raise RuntimeError("this handler always fails")


async def run_slow(ctx: JobContext) -> None:
    """A long job that reports progress and stops when asked (cooperative cancellation)."""
    key = str(ctx.args["key"])
    async with ctx.sessions() as session:
        await attempt(session, key)
        await session.commit()
    for step in range(int(ctx.args.get("steps", 10_000))):
        ctx.raise_if_cancelled()
        await ctx.progress(done=step, total=int(ctx.args.get("steps", 10_000)))
        await ctx.wait_cancelled(0.05)
    async with ctx.sessions() as session:
        await effect(session, key)
        await session.commit()


async def run_period(ctx: JobContext) -> None:
    """A periodic job: one attempt row and one effect per period."""
    key = f"period:{ctx.args['period']}"
    async with ctx.sessions() as session:
        await attempt(session, key)
        await effect(session, key)
        await session.commit()


async def run_noop(_ctx: JobContext) -> None:
    """Nothing: the benchmark's job."""


async def run_stamp(ctx: JobContext) -> None:
    """Note when the handler started (wall clock), for commit-to-start latency."""
    started = time.time()
    async with ctx.sessions() as session:
        await session.execute(
            text("INSERT INTO bench_stamps (key, started) VALUES (:k, :s)"),
            {"k": str(ctx.args["key"]), "s": started},
        )
        await session.commit()


NOOP = JobType("bench.noop", run_noop, max_attempts=3, timeout=60.0)
STAMP = JobType("bench.stamp", run_stamp, max_attempts=3, timeout=60.0)
EFFECT = JobType("test.effect", run_effect, max_attempts=5, timeout=120.0, backoff=FAST)
FAIL = JobType("test.fail", run_fail, max_attempts=3, timeout=10.0, backoff=FAST)
SLOW = JobType("test.slow", run_slow, max_attempts=2, timeout=600.0, backoff=FAST)
PERIOD = JobType("test.period", run_period, max_attempts=2, timeout=10.0, backoff=FAST)


class Noted(BaseModel):
    """Something happened to a test aggregate."""

    n: int
    note: str = ""


NOTED = EventType("test.noted", Noted, aggregate="thing", summary="A test event.")


async def record_event(session: AsyncSession, event: Event) -> None:
    """A consumer whose effect commits with its consumed-event record."""
    assert isinstance(event.payload, Noted)
    if event.payload.note == "fail":
        raise RuntimeError("this consumer refuses failing notes")
    await attempt(session, f"event:{event.aggregate_id}:{event.payload.n}")
    await effect(session, f"event:{event.aggregate_id}:{event.payload.n}")


async def record_recording(session: AsyncSession, event: Event) -> None:
    """Note every recording.stopped event."""
    payload: Any = event.payload
    await effect(session, f"recording:{payload.recording_id}")


RECORDER = Consumer("test.recorder", ("test.noted",), record_event)
RECORDINGS = Consumer("test.recordings", ("recording.stopped",), record_recording)


def register_jobs(registry: JobRegistry, catalogue: Catalogue) -> None:
    """Add the test job types, event type and consumers (LIVECLASS_JOBS_MODULES)."""
    for job_type in (EFFECT, FAIL, SLOW, PERIOD, NOOP, STAMP):
        registry.add(job_type)
    catalogue.declare(NOTED)
    catalogue.subscribe(RECORDER)
    if "recording.stopped" in {t.name for t in catalogue.types}:
        catalogue.subscribe(RECORDINGS)


# ---------------------------------------------------------------- fixtures and waiting


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend."""
    if request.param == "sqlite":
        copy_migrated_sqlite(tmp_path / "jobs.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    with postgres_database(server, migrated=True) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine with the effect tables."""
    engine = create_engine(database_url, pool_size=10)
    await migrate.upgrade(engine)
    await create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    """Sessions on the engine."""
    return create_sessionmaker(engine)


async def scalar(sessions: Sessions, sql: str, **params: object) -> object:
    """One value from the database."""
    found = await rows(sessions, sql, **params)
    return found[0][0] if found else None


async def rows(sessions: Sessions, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows from the database. On SQLite a session takes the write lock at BEGIN, which the
    workers under test may hold past the busy timeout on a loaded machine: the test's own
    look is tried again then (the workers retry theirs the same way)."""
    for attempt_left in range(4, -1, -1):
        try:
            async with sessions() as session:
                return [tuple(r) for r in (await session.execute(text(sql), params)).all()]
        except DBAPIError as exc:
            if not attempt_left or not is_transient(exc):
                raise
    raise AssertionError("unreachable")
