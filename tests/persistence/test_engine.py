"""The engine factory on real databases: SQLite runs in WAL mode with foreign keys and a
busy timeout on every connection, waits for a writer instead of failing, and the
PostgreSQL pool survives its connections being killed."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kits.nodes import Node
from kits.servers import PostgresServer, postgres_database
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker, is_sqlite
from persistence.models import ApiKey, User

BUSY_TIMEOUT_MS = 4321


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database in a directory that does not exist yet."""
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'there.db'}",
        pool_size=3,
        busy_timeout_ms=BUSY_TIMEOUT_MS,
    )
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


async def _pragmas(connection: AsyncConnection) -> dict[str, object]:
    values = {}
    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
        values[name] = (await connection.execute(text(f"PRAGMA {name}"))).scalar()
    # Every transaction takes the write lock (BEGIN IMMEDIATE): end it, keep the connection.
    await connection.commit()
    return values


def test_is_sqlite_tells_backends_apart() -> None:
    assert is_sqlite("sqlite+aiosqlite:///x.db")
    assert not is_sqlite("postgresql+asyncpg://u@h/db")


async def test_sqlite_connections_have_wal_foreign_keys_and_busy_timeout(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    assert path.exists()
    async with sqlite_engine.connect() as writer:
        values = [await _pragmas(writer)]
    assert sqlite_engine.pool.size() == 1  # one writer at a time: they queue in the pool
    # Readers share the file several at once: each one the pool opens must be configured.
    readers = create_engine(
        f"sqlite+aiosqlite:///{path}", pool_size=3, busy_timeout_ms=BUSY_TIMEOUT_MS, read_only=True
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            connections = [await stack.enter_async_context(readers.connect()) for _ in "abc"]
            values += [await _pragmas(connection) for connection in connections]
            raw = [(await c.get_raw_connection()).dbapi_connection for c in connections]
            assert len({id(r) for r in raw}) == len(connections)
        assert readers.pool.checkedout() == 0
    finally:
        await readers.dispose()
    for pragmas in values:
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": BUSY_TIMEOUT_MS,
            "synchronous": 1,  # NORMAL
        }


async def test_sqlite_enforces_foreign_keys(sqlite_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(sqlite_engine)
    async with sessions() as session:
        session.add(
            ApiKey(
                user_id=uuid.uuid4(),
                name="orphan",
                prefix="lck_orphan01",
                key_hash="0" * 64,
                scopes=["profile:read"],
            )
        )
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            await session.commit()


async def test_sessions_keep_attributes_after_commit(sqlite_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(sqlite_engine)
    async with sessions() as session:
        user = User(email="kept@example.org", name="Kept", password_hash="x")
        session.add(user)
        await session.commit()
        # No lazy reload (which would fail outside a greenlet context) is needed.
        assert user.email == "kept@example.org"
        assert user.created_at.tzinfo is not None


async def test_sqlite_writer_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    holder = create_engine(url, busy_timeout_ms=0)
    patient = create_engine(url, busy_timeout_ms=30_000)
    impatient = create_engine(url, busy_timeout_ms=0)
    try:
        async with holder.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        locked, release = asyncio.Event(), asyncio.Event()

        async def hold_the_write_lock() -> None:
            async with holder.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                locked.set()
                await release.wait()

        async def write(engine: AsyncEngine, n: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

        holding = asyncio.create_task(hold_the_write_lock())
        await locked.wait()

        with pytest.raises(OperationalError, match="locked"):
            await write(impatient, 2)

        waiting = asyncio.create_task(write(patient, 3))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # still waiting for the lock, not failed
        release.set()
        await holding
        await waiting

        async with patient.connect() as connection:
            rows = (await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
        assert rows == [1, 3]
    finally:
        for engine in (holder, patient, impatient):
            await engine.dispose()


def test_a_running_node_keeps_its_sqlite_database_in_wal_mode(sqlite_node: Node) -> None:
    database = sqlite_node.server.data_dir / "liveclass.db"
    sqlite_node.register()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.with_name("liveclass.db-wal").exists()


async def test_postgres_pool_recovers_from_killed_connections(pg_server: PostgresServer) -> None:
    with postgres_database(pg_server) as url:
        engine = create_engine(url, pool_size=2)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            killer = create_engine(url, pool_size=1)
            async with killer.connect() as connection:
                killed = await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                assert killed.scalars().all() == [True]
            await killer.dispose()
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        finally:
            await engine.dispose()


async def test_postgres_pool_reuses_healthy_connections(pg_server: PostgresServer) -> None:
    """The test before each checkout passes on a live connection: the pool keeps it."""
    with postgres_database(pg_server) as url:
        engine = create_engine(url, pool_size=2)
        try:
            backends = set()
            for _ in range(20):
                async with engine.connect() as connection:
                    pid = await connection.execute(text("SELECT pg_backend_pid()"))
                    backends.add(pid.scalar())
            assert len(backends) == 1
        finally:
            await engine.dispose()
