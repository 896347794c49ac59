"""A writer that waits past the pool's timeout on SQLite is told who holds the one writer
connection: the task's name and the line it is suspended at (persistence/holders.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from persistence import holders
from persistence.engine import create_engine, create_sessionmaker


async def test_a_writer_that_times_out_learns_who_holds_the_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", busy_timeout_ms=1000)
    sessions = create_sessionmaker(engine)
    release = asyncio.Event()
    taken = asyncio.Event()

    async def slow_holder() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            taken.set()
            await release.wait()  # the slow work done with the session open

    holder = asyncio.create_task(slow_holder(), name="slow-holder")
    try:
        await taken.wait()
        with pytest.raises(PoolTimeout):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        described = holders.describe(longer_than=0.5)
        assert len(described) == 1, described
        assert "task slow-holder" in described[0]
        assert "test_holders.py" in described[0] and "slow_holder" in described[0]
    finally:
        release.set()
        await holder
    assert holders.describe() == []  # given back: nobody holds it
    async with sessions() as session:  # and the next writer gets it
        assert await session.scalar(text("SELECT 2")) == 2
    await engine.dispose()
