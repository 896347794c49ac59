"""The group committer under lock conflicts: a busy SQLite file delays a write, never fails it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker
from persistence.group_commit import GroupCommitter
from persistence.models import DocumentUpdate
from persistence.transient import is_transient


async def test_a_write_waits_out_a_lock_held_past_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=2, busy_timeout_ms=20)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    committer = GroupCommitter(sessions, retry_delay=0.1, conflict_retries=20)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:

        async def write(session: AsyncSession) -> None:
            session.add(DocumentUpdate(doc="busy", data=b"\x00\x00"))

        pending = asyncio.create_task(committer.submit(write))
        while committer.conflicts == 0:
            assert not pending.done(), pending
            await asyncio.sleep(0.02)
        blocker.execute("COMMIT")
        await pending
        async with sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(DocumentUpdate))
        assert stored == 1
    finally:
        blocker.close()
        await committer.close()
        await engine.dispose()


async def test_a_write_that_keeps_conflicting_fails_after_its_retries(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=2, busy_timeout_ms=10)
    await migrate.upgrade(engine)
    committer = GroupCommitter(create_sessionmaker(engine), retry_delay=0.01, conflict_retries=2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:

        async def write(session: AsyncSession) -> None:
            session.add(DocumentUpdate(doc="locked", data=b"\x00\x00"))

        with pytest.raises(OperationalError) as failed:
            await committer.submit(write)
        assert is_transient(failed.value)
        assert committer.conflicts == 2
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await committer.close()
        await engine.dispose()
