"""Enqueueing jobs inside the caller's transaction, and waking workers when it commits.

``enqueue(session, JOB, args)`` adds a row to ``session``: the job exists if and only if
the caller's transaction commits. Workers are woken on commit, not polled: on PostgreSQL
by ``NOTIFY`` (which the server delivers only at commit, to every listening process), and
in this process by an ``after_commit`` hook that sets the wake-up of every worker running
on the same engine (SQLite's only way; on PostgreSQL it saves the in-process worker the
trip through the server). A job due past ``WAKE_HORIZON`` wakes nobody: a poll finds it.
Emitted events wake this process's dispatcher only, when it has one (``LOCAL_IS_ENOUGH``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, event, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from jobs.types import JobType
from persistence.models import Job
from persistence.models.base import utcnow

JOBS_TABLE = cast(Table, Job.__table__)
WAKE_HORIZON = timedelta(seconds=300)
"""A job due later than this from now wakes no worker when it is enqueued (no NOTIFY, no
claim by every worker for nothing): each worker polls at least this often (the settings
cap ``jobs_poll_seconds`` at 300) and, when idle, sleeps until the soonest scheduled job,
so it runs on time all the same (an order's expiry, half an hour after its checkout)."""
JOBS_CHANNEL = "liveclass_jobs"
EVENTS_CHANNEL = "liveclass_events"
LOCAL_IS_ENOUGH = frozenset({EVENTS_CHANNEL})
"""Channels not NOTIFYed when this process wakes a listener of its own at the commit: one
outbox dispatcher works at a time (an advisory lock), so a dispatcher here is all an
emitted event needs; the NOTIFY cost a statement in every emitting transaction and woke
every other process's dispatcher (and this one, a second time) to try the lock for
nothing (one turned away by another's lock tries again shortly: ``jobs.dispatcher.BUSY``).
Without a dispatcher here (a node whose jobs run elsewhere) it is sent. Jobs
are always NOTIFYed: workers elsewhere share them."""

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
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if channel in LOCAL_IS_ENOUGH and _wakers.get(_engine_of(bind), {}).get(channel):
        return  # woken here by _after_commit
    await session.execute(select(func.pg_notify(channel, "")))


def _engine_of(bind: Engine | Connection) -> Engine:
    return bind if isinstance(bind, Engine) else bind.engine


def _after_commit(sync: Session) -> None:
    channels: set[str] = sync.info.pop("jobs.channels", set())
    if not channels:
        return
    engine = _engine_of(sync.get_bind())
    for channel in channels:
        for wake in list(_wakers.get(engine, {}).get(channel, ())):
            wake()


def _after_rollback(sync: Session) -> None:
    sync.info.pop("jobs.channels", None)


def job_values(
    job: JobType,
    args: dict[str, Any] | None = None,
    *,
    now: datetime,
    run_at: datetime | None = None,
    ordering_key: str | None = None,
    max_attempts: int | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """The ``jobs`` row of a ``job`` run (``enqueue`` says what the options mean)."""
    return {
        "name": job.name,
        "args": dict(args or {}),
        "state": "queued",
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts or job.max_attempts,
        "timeout_seconds": timeout_seconds or job.timeout,
        "ordering_key": ordering_key,
        "cancel_requested": False,
        "created_at": now,
    }


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
        **job_values(
            job,
            args,
            now=now,
            run_at=run_at,
            ordering_key=ordering_key,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
        )
    )
    session.add(row)
    if run_at - now <= WAKE_HORIZON:
        await notify_on_commit(session, JOBS_CHANNEL)
    return row


async def enqueue_values(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert ``job_values`` rows due now, in one statement and in that order (ids follow
    it, and with them the order of jobs sharing an ordering key), for the caller's
    transaction: what ``enqueue`` does, without the ORM's unit of work for each row."""
    if not rows:
        return
    await session.execute(insert(JOBS_TABLE), rows)
    await notify_on_commit(session, JOBS_CHANNEL)
