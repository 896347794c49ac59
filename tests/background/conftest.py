"""A migrated database of each backend with the jobkit effect tables, and helpers to wait
for conditions (never for a fixed time)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import jobkit
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from liveserver import PostgresServer, postgres_database
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    with postgres_database(server) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine with the effect tables."""
    engine = create_engine(database_url, pool_size=10)
    await migrate.upgrade(engine)
    await jobkit.create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    """Sessions on the engine."""
    return create_sessionmaker(engine)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 60.0, what: str = "condition"
) -> None:
    """Wait until ``check()`` is true (generous timeout; never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def scalar(sessions: Sessions, sql: str, **params: object) -> object:
    """One value from the database."""
    async with sessions() as session:
        return (await session.execute(text(sql), params)).scalar()


async def rows(sessions: Sessions, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows from the database."""
    async with sessions() as session:
        return [tuple(r) for r in (await session.execute(text(sql), params)).all()]
