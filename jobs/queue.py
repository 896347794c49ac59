"""Enqueueing jobs inside the caller's transaction, and waking workers when it commits.

``enqueue(session, JOB, args)`` adds a row to ``session``: the job exists if and only if
the caller's transaction commits. Workers are woken on commit, not polled: on PostgreSQL
by ``NOTIFY`` (which the server delivers only at commit, to every listening process), and
in this process by an ``after_commit`` hook that sets the wake-up of every worker running
on the same engine (SQLite's only way; on PostgreSQL it saves the in-process worker the
trip through the server).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from jobs.types import JobType
from persistence.models import Job
from persistence.models.base import utcnow

JOBS_CHANNEL = "liveclass_jobs"
EVENTS_CHANNEL = "liveclass_events"

Wake = Callable[[], None]
_wakers: weakref.WeakKeyDictionary[Engine, dict[str, set[Wake]]] = weakref.WeakKeyDictionary()


def add_waker(engine: Engine, channel: str, wake: Wake) -> None:
    """Call ``wake`` after every commit on ``engine`` that enqueued onto ``channel``."""
    _wakers.setdefault(engine, {}).setdefault(channel, set()).add(wake)


def remove_waker(engine: Engine, channel: str, wake: Wake) -> None:
    """Stop calling ``wake``."""
    _wakers.get(engine, {}).get(channel, set()).discard(wake)


async def notify_on_commit(session: AsyncSession, channel: str) -> None:
    """Have ``session``'s commit wake the workers listening on ``channel``, here and (on
    PostgreSQL) in every other process."""
    sync = session.sync_session
    if not sync.info.get("jobs.hooked"):
        # Once per session, for good: removing a listener while it runs is not allowed.
        event.listen(sync, "after_commit", _after_commit)
        event.listen(sync, "after_rollback", _after_rollback)
        sync.info["jobs.hooked"] = True
    pending: set[str] = sync.info.setdefault("jobs.channels", set())
    if channel in pending:
        return
    pending.add(channel)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(channel, "")))


def _after_commit(sync: Session) -> None:
    channels: set[str] = sync.info.pop("jobs.channels", set())
    if not channels:
        return
    bind = sync.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for channel in channels:
        for wake in list(_wakers.get(engine, {}).get(channel, ())):
            wake()


def _after_rollback(sync: Session) -> None:
    sync.info.pop("jobs.channels", None)


async def enqueue(
    session: AsyncSession,
    job: JobType,
    args: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    delay: float | None = None,
    ordering_key: str | None = None,
    max_attempts: int | None = None,
    timeout_seconds: float | None = None,
) -> Job:
    """Add a ``job`` run to ``session``; it is enqueued when the session commits.

    ``run_at`` (or ``delay`` seconds from now) schedules it for later; jobs sharing an
    ``ordering_key`` run one at a time in the order they were enqueued. ``args`` must be
    JSON. Returns the row (its ``id`` is known after a flush).
    """
    now = utcnow()
    if run_at is None:
        run_at = now + timedelta(seconds=delay) if delay else now
    row = Job(
        name=job.name,
        args=dict(args or {}),
        state="queued",
        run_at=run_at,
        attempts=0,
        max_attempts=max_attempts or job.max_attempts,
        timeout_seconds=timeout_seconds or job.timeout,
        ordering_key=ordering_key,
        cancel_requested=False,
        created_at=now,
    )
    session.add(row)
    await notify_on_commit(session, JOBS_CHANNEL)
    return row
