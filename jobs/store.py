"""The jobs table's state changes, one short transaction each, on SQLite and PostgreSQL.

Claiming picks due ``queued`` jobs (whose ordering key has no earlier unfinished job) and
marks them ``running`` under this worker with a lease; on PostgreSQL the pick is
``FOR UPDATE SKIP LOCKED`` so workers never wait for each other, on SQLite every writer
holds the database lock anyway. Every later change names the run it ends (job id, worker
and attempt), so a worker that lost its lease cannot overwrite the next run's outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from jobs.queue import JOBS_CHANNEL, enqueue, notify_on_commit
from jobs.types import Periodic
from persistence.engine import single_statements
from persistence.models import Job, JobSchedule

ACTIVE = ("queued", "running")
JOBS = cast(Table, Job.__table__)  # Core statements: no ORM bookkeeping on the hot paths
ERROR_LIMIT = 4000  # characters of a failure kept on the row


@dataclass(frozen=True)
class Claimed:
    """One claimed run of a job."""

    id: int
    name: str
    args: dict[str, Any]
    attempt: int
    max_attempts: int
    timeout: float
    enqueued_at: datetime
    run_at: datetime


@dataclass(frozen=True)
class Run:
    """Which run a state change is about."""

    id: int
    attempt: int


Sessions = async_sessionmaker[AsyncSession]


def _claim_statement() -> Any:
    table = JOBS
    candidate, earlier = aliased(Job), aliased(Job)
    blocked = exists().where(
        earlier.ordering_key == candidate.ordering_key,
        earlier.id < candidate.id,
        earlier.state.in_(ACTIVE),
    )
    pick = (
        select(candidate.id)
        .where(
            candidate.state == "queued",
            candidate.run_at <= bindparam("now"),
            candidate.name.in_(bindparam("names", expanding=True)),
            or_(candidate.ordering_key.is_(None), ~blocked),
        )
        .order_by(candidate.run_at, candidate.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(table)
        .where(table.c.id.in_(pick.scalar_subquery()))
        .values(
            state="running",
            attempts=table.c.attempts + 1,
            worker=bindparam("worker"),
            lease_until=bindparam("lease_until"),
            started_at=bindparam("now"),
        )
        .returning(
            table.c.id,
            table.c.name,
            table.c.args,
            table.c.attempts,
            table.c.max_attempts,
            table.c.timeout_seconds,
            table.c.created_at,
            table.c.run_at,
        )
    )


CLAIM = _claim_statement()
"""The claim, built once with bound parameters: building it (two aliases, a subquery) and
its cache key for every claim cost more CPU than its round trip (0.4-0.7 ms)."""
FORGET = delete(JOBS).where(
    JOBS.c.worker == bindparam("worker"),
    JOBS.c.state == "running",
    tuple_(JOBS.c.id, JOBS.c.attempts).in_(bindparam("runs", expanding=True)),
)
"""Delete succeeded runs of a worker (``runs``: (id, attempt) pairs), built once."""


async def claim(
    sessions: Sessions,
    *,
    names: Sequence[str],
    worker: str,
    limit: int,
    lease: float,
    now: datetime,
    done: Sequence[Run] = (),
) -> list[Claimed]:
    """Forget the ``done`` (successful) runs and take up to ``limit`` due jobs of ``names``
    for ``worker`` until ``now + lease``: two statements, each atomic alone (on PostgreSQL
    each its own implicit transaction: forgetting finished runs need not commit with the
    claim, and a claim is one UPDATE)."""
    async with sessions() as session:
        await single_statements(session)
        if done:
            await session.execute(FORGET, _runs(done, worker))
        rows: Sequence[Any] = ()
        if limit > 0:
            lease_until = now + timedelta(seconds=lease)
            values = {"now": now, "names": list(names), "limit": limit, "worker": worker}
            rows = (await session.execute(CLAIM, {**values, "lease_until": lease_until})).all()
        await session.commit()
    claimed = [Claimed(*row) for row in rows]
    claimed.sort(key=lambda job: (job.run_at, job.id))
    return claimed


def _runs(runs: Sequence[Run], worker: str) -> dict[str, Any]:
    return {"worker": worker, "runs": [(run.id, run.attempt) for run in runs]}


def _this_run(run: Run, worker: str) -> Any:
    return and_(
        Job.id == run.id,
        Job.worker == worker,
        Job.attempts == run.attempt,
        Job.state == "running",
    )


async def succeed(sessions: Sessions, runs: Sequence[Run], *, worker: str) -> None:
    """Forget successful runs (a succeeded job leaves no row)."""
    if not runs:
        return
    async with sessions() as session:
        await single_statements(session)
        await session.execute(FORGET, _runs(runs, worker))
        await session.commit()


async def finish(
    sessions: Sessions,
    run: Run,
    *,
    worker: str,
    state: str,
    now: datetime,
    error: str | None,
    run_at: datetime | None = None,
) -> bool:
    """End ``run`` as ``queued`` (a retry at ``run_at``), ``dead`` or ``cancelled``."""
    values: dict[str, Any] = {
        "state": state,
        "worker": None,
        "lease_until": None,
        "last_error": error[:ERROR_LIMIT] if error else None,
    }
    if state == "queued":
        values["run_at"] = run_at or now
    else:
        values["finished_at"] = now
    async with sessions() as session:
        result = await session.execute(
            update(Job)
            .where(_this_run(run, worker))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if state == "queued":
            await notify_on_commit(session, JOBS_CHANNEL)
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def release(sessions: Sessions, runs: Sequence[Run], *, worker: str, now: datetime) -> None:
    """Give runs back unfinished (a worker stopping): queued again, the attempt not counted."""
    if not runs:
        return
    async with sessions() as session:
        await session.execute(
            update(Job)
            .where(or_(*(_this_run(run, worker) for run in runs)))
            .values(
                state="queued", attempts=Job.attempts - 1, worker=None, lease_until=None, run_at=now
            )
            .execution_options(synchronize_session=False)
        )
        await notify_on_commit(session, JOBS_CHANNEL)
        await session.commit()


async def heartbeat(
    sessions: Sessions, runs: Sequence[Run], *, worker: str, lease: float, now: datetime
) -> dict[int, bool]:
    """Extend the leases of ``runs``; return, for each run still ours, whether it was asked
    to stop (a run missing from the answer was taken back: its lease had lapsed)."""
    if not runs:
        return {}
    async with sessions() as session:
        table = JOBS
        rows = (
            await session.execute(
                update(table)
                .where(
                    table.c.worker == worker,
                    table.c.state == "running",
                    tuple_(table.c.id, table.c.attempts).in_([(r.id, r.attempt) for r in runs]),
                )
                .values(lease_until=now + timedelta(seconds=lease))
                .returning(table.c.id, table.c.cancel_requested)
            )
        ).all()
        await session.commit()
    return {row[0]: bool(row[1]) for row in rows}


async def reap(sessions: Sessions, *, now: datetime) -> int:
    """Take back runs whose lease lapsed (their worker died): queued again for a retry, or
    dead if that was their last attempt. Returns how many."""
    lapsed = and_(Job.state == "running", Job.lease_until < now)
    error = "the worker running it stopped renewing its lease (killed or stuck)"
    async with sessions() as session:
        dead = await session.execute(
            update(Job)
            .where(lapsed, Job.attempts >= Job.max_attempts)
            .values(state="dead", worker=None, lease_until=None, finished_at=now, last_error=error)
            .execution_options(synchronize_session=False)
        )
        retried = await session.execute(
            update(Job)
            .where(lapsed)
            .values(state="queued", worker=None, lease_until=None, run_at=now, last_error=error)
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(dead, "rowcount", 0)) + int(getattr(retried, "rowcount", 0))
        if getattr(retried, "rowcount", 0):
            await notify_on_commit(session, JOBS_CHANNEL)
        await session.commit()
    return count


async def next_due(sessions: Sessions, *, names: Sequence[str]) -> datetime | None:
    """When the soonest queued job of ``names`` is due (None: nothing queued)."""
    async with sessions() as session:
        await single_statements(session)
        return await session.scalar(
            select(func.min(Job.run_at)).where(Job.state == "queued", Job.name.in_(names))
        )


async def prepare_schedules(sessions: Sessions, periodic: Sequence[Periodic]) -> None:
    """Make sure every periodic job has its schedule row."""
    if not periodic:
        return
    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(
            insert(JobSchedule)
            .values([{"name": p.key, "last_fire": None} for p in periodic])
            .on_conflict_do_nothing()
        )
        await session.commit()


async def fire(sessions: Sessions, periodic: Periodic, at: datetime) -> bool:
    """Enqueue ``periodic`` for the period starting ``at`` unless a worker already did."""
    async with sessions() as session:
        moved = await session.execute(
            update(JobSchedule)
            .where(
                JobSchedule.name == periodic.key,
                or_(JobSchedule.last_fire.is_(None), JobSchedule.last_fire < at),
            )
            .values(last_fire=at)
            .execution_options(synchronize_session=False)
        )
        if not getattr(moved, "rowcount", 0):
            await session.rollback()
            return False
        await enqueue(session, periodic.job, {**periodic.args, "period": at.isoformat()})
        await session.commit()
    return True


async def stats(sessions: Sessions, *, now: datetime) -> dict[str, float]:
    """Jobs by state (``queued`` counts due ones, ``scheduled`` those waiting for their
    time) and the age of the oldest due job, for /metrics."""
    result = dict.fromkeys(("queued", "scheduled", "running", "dead", "cancelled"), 0.0)
    async with sessions() as session:
        for state, count in (
            await session.execute(select(Job.state, func.count()).group_by(Job.state))
        ).all():
            result[state] = float(count)
        waiting = await session.scalar(
            select(func.count()).where(Job.state == "queued", Job.run_at > now)
        )
        oldest = await session.scalar(
            select(func.min(Job.run_at)).where(Job.state == "queued", Job.run_at <= now)
        )
    result["scheduled"] = float(waiting or 0)
    result["queued"] -= result["scheduled"]
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    result["oldest_queued_age_seconds"] = max(0.0, age)
    return result
