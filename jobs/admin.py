"""What an admin may do with jobs: list and inspect them, retry a dead or cancelled one,
cancel a queued or running one, discard a finished one. No HTTP here (lms/jobs/routes.py
serves it); refusals are ``JobNotFound`` and ``JobStateConflict``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, Update, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import JobNotFound, JobStateConflict
from jobs.queue import JOBS_CHANNEL, notify_on_commit
from persistence.models import Job
from persistence.models.base import utcnow

STATES = ("queued", "running", "dead", "cancelled")


async def list_jobs(
    session: AsyncSession,
    *,
    state: str | None = None,
    name: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Sequence[Job]:
    """Jobs by id (oldest first), optionally of one state and type, after id ``after``."""
    conditions: list[ColumnElement[bool]] = []
    if state:
        conditions.append(Job.state == state)
    if name:
        conditions.append(Job.name == name)
    if after is not None:
        conditions.append(Job.id > after)
    query = select(Job).where(*conditions).order_by(Job.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def get(session: AsyncSession, job_id: int) -> Job:
    """The job ``job_id`` (JobNotFound: none, or it succeeded and was forgotten)."""
    job = await session.get(Job, job_id)
    if job is None:
        raise JobNotFound("No such job (a job that succeeded is not kept).")
    return job


async def retry(session: AsyncSession, job_id: int) -> Job:
    """Queue a dead or cancelled job again, now, with its attempts counted from zero."""
    job = _ended(await get(session, job_id), "retried")
    changes = update(Job).values(
        state="queued",
        attempts=0,
        run_at=utcnow(),
        finished_at=None,
        cancel_requested=False,
        progress=None,
    )
    await _changed(session, job, changes)
    await notify_on_commit(session, JOBS_CHANNEL)
    await session.refresh(job)
    return job


async def cancel(session: AsyncSession, job_id: int) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its handler sees it at the
    worker's next heartbeat and ends it ``cancelled``, if it checks)."""
    job = await get(session, job_id)
    if job.state == "queued":
        values: dict[str, object] = {"state": "cancelled", "finished_at": utcnow()}
    elif job.state == "running":
        values = {"cancel_requested": True}
    else:
        raise JobStateConflict(
            f"Only queued or running jobs can be cancelled; this one is {job.state}."
        )
    await _changed(session, job, update(Job).values(**values))
    await session.refresh(job)
    return job


async def discard(session: AsyncSession, job_id: int) -> Job:
    """Delete a dead or cancelled job for good."""
    job = _ended(await get(session, job_id), "discarded")
    await _changed(session, job, delete(Job))
    return job


def _ended(job: Job, verb: str) -> Job:
    """``job`` if it has ended (dead or cancelled): only such a job may be ``verb`` ("retried",
    "discarded"); any other is a JobStateConflict."""
    if job.state not in ("dead", "cancelled"):
        raise JobStateConflict(
            f"Only dead or cancelled jobs can be {verb}; this one is {job.state}."
        )
    return job


async def _changed(session: AsyncSession, job: Job, statement: Update | Delete) -> None:
    """Run ``statement`` on ``job`` only while it is in the state just read; a worker that
    claimed or finished it in between makes this a conflict, not a silent no-op."""
    state = job.state
    result = await session.execute(statement.where(Job.id == job.id, Job.state == state))
    if not cast(CursorResult[Any], result).rowcount:
        raise JobStateConflict(f"The job changed while this request ran (it was {state}).")
