"""`liveclass worker` processes on a real PostgreSQL: two share the work without running a
job twice, a worker killed mid-job has the job run again after its lease (the effect
happens once), and SIGTERM finishes or gives back running jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs import admin
from jobs.queue import enqueue
from kits import jobs as jobkit
from kits.jobs import Sessions, rows, scalar
from kits.servers import ROOT, PostgresServer, postgres_database
from kits.waiting import eventually
from kits.workers import Worker
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database."""
    with postgres_database(pg_server) as url:
        yield url


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """The database migrated, with the effect tables."""
    engine = create_engine(pg_url, pool_size=4)
    await migrate.upgrade(engine)
    await jobkit.create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def workers(pg_url: str, tmp_path: Path) -> Iterator[list[Worker]]:
    """Start workers with ``workers.append(Worker(...))``; every one is killed at the end."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


async def _effects(sessions: Sessions) -> int:
    return int(str(await scalar(sessions, "SELECT count(*) FROM test_effects")))


async def test_two_workers_share_the_work_and_run_no_job_twice(
    engine: AsyncEngine, pg_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    sessions = create_sessionmaker(engine)
    # Leases long enough that no stall of a loaded machine lets one lapse: a lapsed lease
    # is the one way a job runs twice (the kill test below covers it).
    lease = {"LIVECLASS_JOBS_LEASE_SECONDS": "30"}
    workers += [Worker(pg_url, tmp_path, "a", **lease), Worker(pg_url, tmp_path, "b", **lease)]
    total = 150
    for batch in range(0, total, 10):
        async with sessions() as session:
            for i in range(batch, batch + 10):
                await enqueue(session, jobkit.EFFECT, {"key": f"shared-{i}", "sleep": 0.02})
            await session.commit()

    async def done() -> bool:
        return await _effects(sessions) == total

    await eventually(done, within=120, what="every job")
    per_key = await rows(sessions, "SELECT key, count(*) FROM test_attempts GROUP BY key")
    assert len(per_key) == total
    assert all(n == 1 for _key, n in per_key), [r for r in per_key if r[1] != 1]
    pids = {pid for (pid,) in await rows(sessions, "SELECT DISTINCT pid FROM test_attempts")}
    assert pids == {w.pid for w in workers}
    # Every test job is gone (the workers' own periodic jobs may be running meanwhile). A
    # job's effect commits before its row is deleted, so the last rows may lag a moment
    # behind the last effects (seen on a loaded machine: 2 rows left).
    left = "SELECT count(*) FROM jobs WHERE name = :name"

    async def none_left() -> bool:
        return await scalar(sessions, left, name=jobkit.EFFECT.name) == 0

    await eventually(none_left, within=60, what="every test job's row deleted")


async def test_a_worker_killed_mid_job_has_it_run_again_after_the_lease_once(
    engine: AsyncEngine, pg_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    sessions = create_sessionmaker(engine)
    workers.append(Worker(pg_url, tmp_path, "doomed"))
    async with sessions() as session:
        job = await enqueue(session, jobkit.EFFECT, {"key": "survivor", "sleep": 4})
        await session.commit()

    async def started() -> bool:
        return bool(await rows(sessions, "SELECT 1 FROM test_attempts WHERE key = 'survivor'"))

    await eventually(started, what="the job to start")
    workers[0].signal(signal.SIGKILL)
    workers[0].wait()
    workers.append(Worker(pg_url, tmp_path, "heir"))

    async def finished() -> bool:
        return await _effects(sessions) == 1

    await eventually(finished, within=120, what="the job to run again and finish")
    attempts = await rows(sessions, "SELECT pid FROM test_attempts WHERE key = 'survivor'")
    assert [pid for (pid,) in attempts] == [workers[0].pid, workers[1].pid]
    assert await rows(sessions, "SELECT pid FROM test_effects") == [(workers[1].pid,)]

    async def forgotten() -> bool:
        return await scalar(sessions, "SELECT count(*) FROM jobs WHERE id = :i", i=job.id) == 0

    await eventually(forgotten, what="the job to be forgotten")


async def test_sigterm_lets_a_short_job_finish_and_gives_a_long_one_back(
    engine: AsyncEngine, pg_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    sessions = create_sessionmaker(engine)
    workers.append(Worker(pg_url, tmp_path, "graceful", LIVECLASS_JOBS_SHUTDOWN_GRACE_SECONDS="30"))
    async with sessions() as session:
        await enqueue(session, jobkit.EFFECT, {"key": "short", "sleep": 1})
        await session.commit()

    async def started(key: str) -> bool:
        return bool(await rows(sessions, "SELECT 1 FROM test_attempts WHERE key = :k", k=key))

    await eventually(lambda: started("short"), what="the short job to start")
    workers[0].signal(signal.SIGTERM)
    assert workers[0].wait() == 0, workers[0].output()
    assert await rows(sessions, "SELECT key FROM test_effects") == [("short",)]

    workers.append(Worker(pg_url, tmp_path, "hasty", LIVECLASS_JOBS_SHUTDOWN_GRACE_SECONDS="0"))
    async with sessions() as session:
        job = await enqueue(session, jobkit.EFFECT, {"key": "long", "sleep": 3600})
        await session.commit()
    await eventually(lambda: started("long"), what="the long job to start")
    workers[1].signal(signal.SIGTERM)
    assert workers[1].wait() == 0, workers[1].output()
    async with sessions() as session:
        back = await admin.get(session, job.id)
    assert (back.state, back.attempts, back.worker) == ("queued", 0, None)


def test_a_worker_refuses_sqlite(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "worker"],
        cwd=ROOT,
        env={**os.environ, "LIVECLASS_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr
