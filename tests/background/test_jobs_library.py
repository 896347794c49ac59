"""The jobs package as a library, on real SQLite and PostgreSQL, in this process: enqueue
in the caller's transaction, retries and dead letters, timeouts, scheduled and periodic
jobs, ordering, cancellation, giving jobs back on stop, and the event outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from jobs import admin
from jobs.dispatcher import DELIVER, DISPATCH_LOCK, delivery_job, dispatch
from jobs.events import Catalogue, emit, job_consumer
from jobs.listener import asyncpg_dsn
from jobs.queue import EVENTS_CHANNEL, JOBS_CHANNEL, enqueue
from jobs.retry import Backoff
from jobs.runtime import JobRuntime
from jobs.types import JobContext, JobRegistry, JobType, Periodic
from jobs.worker import WorkerConfig
from kits import jobs as jobkit
from kits.jobs import Sessions, database_url, engine, rows, scalar, sessions
from kits.waiting import eventually
from persistence.models import Job
from persistence.models.base import utcnow

__all__ = ["database_url", "engine", "sessions"]  # fixtures of kits.jobs
CONFIG = WorkerConfig(concurrency=4, lease=2.0, poll=0.5, grace=5.0, node_id="test")


def registry(*extra: JobType, periodic: tuple[Periodic, ...] = ()) -> JobRegistry:
    """The jobkit job types plus ``extra``."""
    return JobRegistry([jobkit.EFFECT, jobkit.FAIL, jobkit.SLOW, *extra], periodic)


def catalogue() -> Catalogue:
    """The jobkit event and its consumer."""
    return Catalogue([jobkit.NOTED], [jobkit.RECORDER])


@asynccontextmanager
async def running(
    engine: AsyncEngine, sessions: Sessions, jobs: JobRegistry | None = None, **config: float
) -> AsyncIterator[JobRuntime]:
    """A jobs runtime working on the database until the block ends."""
    settings = WorkerConfig(**{**CONFIG.__dict__, **config})
    runtime = JobRuntime(
        engine=engine,
        sessions=sessions,
        registry=jobs or registry(),
        catalogue=catalogue(),
        config=settings,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def count(sessions: Sessions, table: str, key: str | None = None) -> int:
    """Rows of ``table`` (for ``key``)."""
    where = "" if key is None else " WHERE key = :k"
    value = await scalar(sessions, f"SELECT count(*) FROM {table}{where}", k=key)  # noqa: S608
    return int(str(value))


async def job_state(sessions: Sessions, job_id: int) -> str | None:
    """The state of a job (None once it succeeded and was forgotten)."""
    async with sessions() as session:
        return await session.scalar(select(Job.state).where(Job.id == job_id))


async def add(sessions: Sessions, job: JobType, args: dict[str, object], **options: object) -> int:
    """Enqueue one job in its own transaction; return its id."""
    async with sessions() as session:
        row = await enqueue(session, job, args, **options)  # type: ignore[arg-type]
        await session.commit()
        return row.id


async def test_a_rolled_back_transaction_enqueues_nothing(sessions: Sessions) -> None:
    async with sessions() as session:
        await enqueue(session, jobkit.EFFECT, {"key": "rolled-back"})
        await emit(session, jobkit.NOTED, jobkit.Noted(n=1), aggregate_id="a")
        await session.rollback()
    assert await count(sessions, "jobs") == 0
    assert await count(sessions, "domain_events") == 0
    await add(sessions, jobkit.EFFECT, {"key": "committed"})
    assert await count(sessions, "jobs") == 1


async def test_a_job_runs_once_and_is_forgotten(engine: AsyncEngine, sessions: Sessions) -> None:
    async with running(engine, sessions):
        job_id = await add(sessions, jobkit.EFFECT, {"key": "once"})
        await eventually(lambda: _gone(sessions, job_id), what="the job to succeed")
    assert await count(sessions, "test_effects", "once") == 1
    assert await count(sessions, "test_attempts", "once") == 1


async def _gone(sessions: Sessions, job_id: int) -> bool:
    return await job_state(sessions, job_id) is None


async def test_a_handler_that_always_fails_is_dead_lettered_and_others_carry_on(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with running(engine, sessions):
        failing = await add(sessions, jobkit.FAIL, {"key": "doomed"})
        others = [await add(sessions, jobkit.EFFECT, {"key": f"other-{i}"}) for i in range(10)]

        async def dead() -> bool:
            return await job_state(sessions, failing) == "dead"

        await eventually(dead, what="the failing job to be dead-lettered")
        for job_id in others:
            await eventually(lambda j=job_id: _gone(sessions, j), what="the other jobs")
    assert await count(sessions, "test_attempts", "doomed") == jobkit.FAIL.max_attempts
    assert await count(sessions, "test_effects") == 10
    async with sessions() as session:
        job = await admin.get(session, failing)
    assert job.attempts == jobkit.FAIL.max_attempts
    assert "this handler always fails" in (job.last_error or "")
    assert job.finished_at is not None


async def test_retries_wait_a_growing_jittered_delay() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    for attempt in range(1, 10):
        full = min(60.0, 2.0 ** (attempt - 1))
        assert backoff.delay(attempt, 0.0) == full / 2
        assert full / 2 <= backoff.delay(attempt, 0.999) < full
    assert backoff.delay(1000, 0.5) <= 60.0


async def test_a_permanent_failure_is_dead_lettered_without_retries(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with running(engine, sessions):
        job_id = await add(sessions, jobkit.FAIL, {"key": "permanent", "permanent": True})

        async def dead() -> bool:
            return await job_state(sessions, job_id) == "dead"

        await eventually(dead, what="the job to be dead-lettered")
    assert await count(sessions, "test_attempts", "permanent") == 1


async def test_a_run_past_its_timeout_fails(engine: AsyncEngine, sessions: Sessions) -> None:
    async with running(engine, sessions):
        job_id = await add(
            sessions,
            jobkit.EFFECT,
            {"key": "too-slow", "sleep": 3600},
            timeout_seconds=0.3,
            max_attempts=2,
        )

        async def dead() -> bool:
            return await job_state(sessions, job_id) == "dead"

        await eventually(dead, what="the slow job to time out twice")
        async with sessions() as session:
            job = await admin.get(session, job_id)
    assert "timed out" in (job.last_error or "")
    assert await count(sessions, "test_attempts", "too-slow") == 2
    assert await count(sessions, "test_effects", "too-slow") == 0


async def test_a_scheduled_job_runs_at_its_time_not_before(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    run_at = utcnow() + timedelta(seconds=1.5)
    async with running(engine, sessions):
        job_id = await add(sessions, jobkit.EFFECT, {"key": "later"}, run_at=run_at)
        await eventually(lambda: _gone(sessions, job_id), what="the scheduled job")
    ((at,),) = await rows(sessions, "SELECT at FROM test_attempts WHERE key = 'later'")
    assert str(at) >= run_at.isoformat()


async def test_jobs_sharing_an_ordering_key_run_one_at_a_time_in_order(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with sessions() as session:
        for i in range(12):
            await enqueue(
                session,
                jobkit.EFFECT,
                {"key": f"ordered-{i:02}", "sleep": 0.01},
                ordering_key="one-thing",
            )
        await session.commit()
    async with running(engine, sessions):
        await eventually(lambda: _effects_at_least(sessions, 12), what="every ordered job")
    order = [k for (k,) in await rows(sessions, "SELECT key FROM test_attempts ORDER BY at, key")]
    assert order == [f"ordered-{i:02}" for i in range(12)]


async def _effects_at_least(sessions: Sessions, n: int) -> bool:
    return await count(sessions, "test_effects") >= n


async def test_periodic_jobs_run_once_per_period_across_two_workers(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    periodic = Periodic(jobkit.PERIOD, "@every 1s")
    first = registry(periodic=(periodic,))
    second = registry(periodic=(periodic,))
    async with running(engine, sessions, first), running(engine, sessions, second):
        await eventually(lambda: _effects_at_least(sessions, 3), what="three periods")
    per_period = await rows(
        sessions, "SELECT key, count(*) FROM test_attempts GROUP BY key ORDER BY key"
    )
    assert len(per_period) >= 3
    assert all(n == 1 for _key, n in per_period), per_period


async def test_a_running_job_reports_progress_and_stops_when_cancelled(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with running(engine, sessions, lease=0.8):
        job_id = await add(sessions, jobkit.SLOW, {"key": "long"})

        async def progressing() -> bool:
            async with sessions() as session:
                job = await session.get(Job, job_id)
                return job is not None and bool(job.progress and job.progress["done"] > 0)

        await eventually(progressing, what="progress")
        async with sessions() as session:
            job = await admin.cancel(session, job_id)
            await session.commit()
        assert job.cancel_requested

        async def cancelled() -> bool:
            return await job_state(sessions, job_id) == "cancelled"

        await eventually(cancelled, what="the job to stop")
    assert await count(sessions, "test_effects", "long") == 0


async def test_stopping_gives_unfinished_jobs_back_uncounted(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with running(engine, sessions, grace=0.0) as runtime:
        job_id = await add(sessions, jobkit.EFFECT, {"key": "interrupted", "sleep": 3600})
        await eventually(lambda: _attempted(sessions, "interrupted"), what="the job to start")
        await runtime.stop(grace=0.0)
        async with sessions() as session:
            job = await admin.get(session, job_id)
        assert (job.state, job.attempts, job.worker) == ("queued", 0, None)
        await runtime.start()  # the block's end stops it again


async def _attempted(sessions: Sessions, key: str) -> bool:
    return await count(sessions, "test_attempts", key) > 0


async def test_a_job_of_a_dead_worker_runs_again_after_its_lease(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    # A run that a worker claimed and never renewed (it died): another worker reaps it.
    async with sessions() as session:
        row = await enqueue(session, jobkit.EFFECT, {"key": "orphan"})
        await session.flush()
        row.state, row.attempts, row.worker = "running", 1, "dead-worker"
        row.lease_until = utcnow() - timedelta(seconds=1)
        await session.commit()
        job_id = row.id
    async with running(engine, sessions, lease=0.8):
        await eventually(lambda: _gone(sessions, job_id), what="the orphan to run again")
    assert await count(sessions, "test_effects", "orphan") == 1


async def test_events_reach_their_consumer_once_each_in_order_per_aggregate(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    # Committed while no dispatcher runs (a crash between commit and delivery): kept.
    for n in range(8):
        async with sessions() as session:
            await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="thing-a")
            await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="thing-b")
            await session.commit()
    async with running(engine, sessions):
        await eventually(lambda: _effects_at_least(sessions, 16), what="every event consumed")
    for thing in ("thing-a", "thing-b"):
        keys = [
            k
            for (k,) in await rows(
                sessions,
                "SELECT key FROM test_attempts WHERE key LIKE :p ORDER BY at, key",
                p=f"event:{thing}:%",
            )
        ]
        assert keys == [f"event:{thing}:{n}" for n in range(8)]
    assert await count(sessions, "consumed_events") == 16


async def test_a_repeated_delivery_changes_nothing(sessions: Sessions) -> None:
    async with sessions() as session:
        event = await emit(session, jobkit.NOTED, jobkit.Noted(n=1), aggregate_id="x")
        await session.commit()
    deliver = delivery_job(catalogue())
    assert deliver.name == DELIVER
    for _ in range(3):  # a worker that died after the effect committed, twice
        ctx = JobContext(
            job_id=1,
            name=DELIVER,
            args={"seq": event.seq, "event_id": str(event.event_id), "consumer": "test.recorder"},
            attempt=1,
            sessions=sessions,
            worker="w",
        )
        await deliver.handler(ctx)
    assert await count(sessions, "test_attempts") == 1


async def test_a_consumer_gets_no_job_for_an_event_it_does_not_want(sessions: Sessions) -> None:
    async with sessions() as session:
        for n in range(3):
            await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="choosy")
        await session.commit()
    asked: list[str] = []

    async def nothing(session: AsyncSession) -> Callable[[str], bool]:
        asked.append("asked")
        return lambda _type: False

    async def everything(session: AsyncSession) -> Callable[[str], bool]:
        return lambda _type: True

    choosy = Catalogue(
        [jobkit.NOTED],
        [
            replace(jobkit.RECORDER, wants=nothing),
            replace(jobkit.RECORDER, name="test.keen", wants=everything),
        ],
    )
    assert await dispatch(sessions, choosy) == 3
    assert asked == ["asked"]  # once per dispatched batch, not per event
    made = await rows(sessions, "SELECT ordering_key FROM jobs ORDER BY id")
    assert [key for (key,) in made] == ["test.keen:thing:choosy"] * 3
    assert await dispatch(sessions, choosy) == 0  # dispatched all the same


async def test_a_job_consumer_gets_its_own_job_once_per_event_from_the_dispatcher(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    mailer = job_consumer(
        "test.mailer",
        (jobkit.NOTED.name,),
        jobkit.EFFECT,
        lambda kind, event_id, payload: {"key": f"mail:{kind}:{payload['n']}", "id": str(event_id)},
    )
    mailing = Catalogue([jobkit.NOTED], [mailer])
    async with sessions() as session:
        for n in range(3):
            await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="inbox")
        await session.commit()
    assert await dispatch(sessions, mailing) == 3
    assert await dispatch(sessions, mailing) == 0  # each event once: no second job
    made = await rows(sessions, "SELECT name, ordering_key, args FROM jobs ORDER BY id")
    assert [(name, key) for name, key, _ in made] == [
        ("test.effect", "test.mailer:thing:inbox")
    ] * 3  # no delivery job in between; one aggregate's jobs in outbox order
    assert [_json(args)["key"] for _, _, args in made] == [f"mail:test.noted:{n}" for n in range(3)]
    async with running(engine, sessions):
        await eventually(lambda: _jobs_left(sessions, 0), what="the mail jobs to run")
    assert await count(sessions, "test_attempts") == 3
    assert await count(sessions, "consumed_events") == 0


async def test_a_delivery_made_before_a_consumer_became_a_job_consumer_enqueues_its_job(
    sessions: Sessions,
) -> None:
    async with sessions() as session:
        event = await emit(session, jobkit.NOTED, jobkit.Noted(n=7), aggregate_id="old")
        await session.commit()
    mailer = job_consumer(
        "test.mailer", (jobkit.NOTED.name,), jobkit.EFFECT, lambda k, i, p: {"key": f"m{p['n']}"}
    )
    deliver = delivery_job(Catalogue([jobkit.NOTED], [mailer]))
    for _ in range(2):  # a repeated delivery enqueues nothing more
        ctx = JobContext(
            job_id=1,
            name=DELIVER,
            args={"seq": event.seq, "event_id": str(event.event_id), "consumer": "test.mailer"},
            attempt=1,
            sessions=sessions,
            worker="w",
        )
        await deliver.handler(ctx)
    made = await rows(sessions, "SELECT name, ordering_key, args FROM jobs")
    assert [(name, key, _json(args)) for name, key, args in made] == [
        ("test.effect", "test.mailer:thing:old", {"key": "m7"})
    ]


def _json(value: object) -> dict[str, object]:
    """A JSON column as read back (SQLite's driver gives the text)."""
    found: object = json.loads(value) if isinstance(value, str) else value
    assert isinstance(found, dict)
    return found


async def _jobs_left(sessions: Sessions, left: int) -> bool:
    return await count(sessions, "jobs") == left


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # NOTIFY is PostgreSQL's
async def test_an_event_is_notified_only_when_no_dispatcher_runs_here(
    engine: AsyncEngine, sessions: Sessions, database_url: str
) -> None:
    heard: list[str] = []
    listening = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        for channel in (EVENTS_CHANNEL, JOBS_CHANNEL):
            await listening.add_listener(
                channel, lambda _c, _p, name, note: heard.append(note or name)
            )

        async def emitted(n: int) -> None:
            async with sessions() as session:
                await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="told")
                await session.commit()

        await emitted(0)  # no dispatcher in this process: the others are told
        await eventually(lambda: EVENTS_CHANNEL in heard, what="the event's NOTIFY")
        async with running(engine, sessions, poll=30.0):
            heard.clear()
            await emitted(1)  # this process's dispatcher is woken at the commit, alone
            await eventually(lambda: _effects_at_least(sessions, 2), what="both events consumed")
            await listening.execute(f"NOTIFY {JOBS_CHANNEL}, 'marker'")
            # Notifications arrive in commit order: the event's would have come before this.
            await eventually(lambda: "marker" in heard, what="the marker")
            assert EVENTS_CHANNEL not in heard
            assert JOBS_CHANNEL in heard  # its delivery jobs are shared with other workers
    finally:
        await listening.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # its advisory lock
async def test_an_event_committed_while_another_dispatcher_works_is_not_left_for_the_poll(
    engine: AsyncEngine, sessions: Sessions, database_url: str
) -> None:
    other = await asyncpg.connect(asyncpg_dsn(database_url))  # another node's dispatcher
    try:
        async with running(engine, sessions, poll=300.0) as runtime:

            async def emitted(n: int) -> None:
                async with sessions() as session:
                    await emit(session, jobkit.NOTED, jobkit.Noted(n=n), aggregate_id="late")
                    await session.commit()  # wakes the dispatcher here

            await emitted(0)  # the start-up's wake-ups are over once it is consumed
            await eventually(lambda: _effects_at_least(sessions, 1), what="the first event")
            async with other.transaction():
                await other.execute("SELECT pg_advisory_xact_lock($1)", DISPATCH_LOCK)
                await emitted(1)
                await eventually(
                    lambda: runtime.dispatcher.turned_away > 0, what="the dispatcher turned away"
                )
            # The other dispatcher's batch was taken before the event: nobody else will look
            # for it until a poll, five minutes away.
            await eventually(lambda: _effects_at_least(sessions, 2), what="the event consumed")
    finally:
        await other.close()


async def test_a_consumer_that_fails_retries_without_holding_up_other_aggregates(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with sessions() as session:
        await emit(session, jobkit.NOTED, jobkit.Noted(n=0, note="fail"), aggregate_id="bad")
        await emit(session, jobkit.NOTED, jobkit.Noted(n=0), aggregate_id="good")
        await emit(session, jobkit.NOTED, jobkit.Noted(n=1), aggregate_id="good")
        await session.commit()
    jobs = registry()
    async with running(engine, sessions, jobs):
        await eventually(lambda: _effects_at_least(sessions, 2), what="the good events")

        async def retrying() -> bool:
            failed = await rows(sessions, "SELECT attempts, last_error FROM jobs")
            return len(failed) == 1 and "refuses failing notes" in str(failed[0][1] or "")

        await eventually(retrying, what="the bad event's delivery to be retried")
    assert await count(sessions, "test_effects", "event:bad:0") == 0
