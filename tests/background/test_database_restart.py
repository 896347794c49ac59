"""The database crashes under load: two `liveclass worker` processes are running jobs and
delivering domain events when PostgreSQL is shut down immediately (every connection cut, no
checkpoint) and started again. Afterwards every job has made its effect and every event has
been consumed, once each: nothing was lost, nothing was done twice.

A cluster of the test's own (restarting the shared one would cut other tests' nodes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.events import emit
from jobs.queue import enqueue
from kits import jobs as jobkit
from kits.jobs import Sessions, rows, scalar
from kits.servers import PostgresServer, postgres_database, start_postgres
from kits.waiting import eventually
from kits.workers import Worker
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker

JOBS = 120
EVENTS = 60


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    if not server.owned:
        pytest.fail("this test needs a PostgreSQL cluster of its own (initdb, pg_ctl)")
    yield server
    server.stop()


@pytest.fixture
def url(own_postgres: PostgresServer) -> Iterator[str]:
    with postgres_database(own_postgres) as found:
        yield found


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, pool_size=4)
    await migrate.upgrade(engine)
    await jobkit.create_tables(engine)
    yield engine
    await engine.dispose()


async def _add(sessions: Sessions, first: int, last: int) -> None:
    """Jobs and events ``first``..``last - 1`` (retrying while the database is down)."""
    for i in range(first, last):

        async def added(i: int = i) -> bool:
            try:
                async with sessions() as session:
                    await enqueue(session, jobkit.EFFECT, {"key": f"job-{i}", "sleep": 0.3})
                    if i < EVENTS:
                        payload = jobkit.Noted(n=i)
                        await emit(session, jobkit.NOTED, payload, aggregate_id=f"db-{i % 7}")
                    await session.commit()
            except (OperationalError, DBAPIError, OSError, ConnectionError):
                return False
            return True

        await eventually(added, within=120, what=f"job {i} enqueued")


async def test_work_survives_a_database_crash_once_each(
    engine: AsyncEngine, url: str, tmp_path: Path, own_postgres: PostgresServer
) -> None:
    sessions = create_sessionmaker(engine)
    lease = {"LIVECLASS_JOBS_LEASE_SECONDS": "10", "LIVECLASS_JOBS_POLL_SECONDS": "0.5"}
    workers = [Worker(url, tmp_path, "a", **lease), Worker(url, tmp_path, "b", **lease)]
    try:
        await _add(sessions, 0, JOBS // 2)

        async def working() -> bool:
            return int(str(await scalar(sessions, "SELECT count(*) FROM test_effects"))) >= 10

        await eventually(working, within=120, what="the workers to be busy")
        done_before = int(str(await scalar(sessions, "SELECT count(*) FROM test_effects")))
        own_postgres.restart(down_for=2.0)
        await engine.dispose()  # the pool's connections died with the server
        await _add(sessions, JOBS // 2, JOBS)

        async def finished() -> bool:
            effects = await scalar(sessions, "SELECT count(*) FROM test_effects")
            return int(str(effects)) == JOBS + EVENTS

        await eventually(finished, within=240, what="every job and event")
        # The first half enqueued JOBS // 2 jobs (0.3 s each) and every event (quick ones).
        first_half = JOBS // 2 + EVENTS
        assert done_before < first_half, "the crash came after the work: nothing was in flight"
        # A consumer's attempt commits with its consumed-event record: one row per event.
        per_event = await rows(
            sessions,
            "SELECT key, count(*) FROM test_attempts WHERE key LIKE 'event:%' GROUP BY key",
        )
        assert len(per_event) == EVENTS
        assert all(n == 1 for _key, n in per_event), [r for r in per_event if r[1] != 1]
        assert await scalar(sessions, "SELECT count(*) FROM jobs WHERE state = 'dead'") == 0
        for worker in workers:
            assert worker.process.poll() is None, f"a worker died:\n{worker.output()}"
    finally:
        for worker in workers:
            worker.stop()
