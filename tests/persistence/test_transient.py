"""The busy classifier on errors the databases really raise: a lock a second connection holds,
a serialization failure, a deadlock, a lock and a statement timeout, against plain faults.

``is_transient`` (retry the transaction here) must answer only for conflicts a rerun can get
past; ``is_busy`` (answer 503 with ``Retry-After``) for those and for the timeouts too.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kits.servers import PostgresServer, postgres_database
from persistence.engine import create_engine
from persistence.transient import is_busy, is_transient


async def _sqlite_table(path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=1, busy_timeout_ms=0)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
    return engine


async def test_a_sqlite_write_lock_held_by_another_connection_is_transient_and_busy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    engine = await _sqlite_table(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the write lock, held by a second connection
    try:
        with pytest.raises(OperationalError, match="locked") as failed:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (3)"))
        assert is_transient(failed.value)
        assert is_busy(failed.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await engine.dispose()


async def test_sqlite_writers_wait_their_turn_in_arrival_order(tmp_path: Path) -> None:
    """The writers' pool has one connection: a write queued behind a long transaction runs
    after it, in the order the writes came (not in the busy handler's lottery), and one
    that waits past the busy timeout gets a pool timeout, which is busy and transient."""
    path = tmp_path / "turns.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=10, busy_timeout_ms=1000)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))

    async def write(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    try:
        async with engine.begin() as holder:
            await holder.execute(text("INSERT INTO t VALUES (0)"))
            with pytest.raises(PoolTimeout) as waited:
                await write(99)  # the one connection held past the one second
            writers = []
            for n in range(1, 6):
                writers.append(asyncio.create_task(write(n)))
                await asyncio.sleep(0.02)  # each one queued before the next
        await asyncio.gather(*writers)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT n FROM t ORDER BY rowid"))).scalars()
            assert list(rows) == [0, 1, 2, 3, 4, 5]
        assert is_busy(waited.value) and is_transient(waited.value)
    finally:
        await engine.dispose()


async def test_sqlite_faults_are_neither_transient_nor_busy(tmp_path: Path) -> None:
    engine = await _sqlite_table(tmp_path / "faults.db")
    try:
        with pytest.raises(IntegrityError) as duplicate:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(OperationalError, match="no such table") as missing:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT * FROM absent"))
    finally:
        await engine.dispose()
    # The lock's words outside a database error are not a lock.
    for exc in (duplicate.value, missing.value, ValueError("database is locked")):
        assert not is_transient(exc), exc
        assert not is_busy(exc), exc


@pytest.fixture
async def pg_engine(pg_server: PostgresServer) -> AsyncIterator[AsyncEngine]:
    """A fresh PostgreSQL database with a table of two rows."""
    with postgres_database(pg_server) as url:
        engine = create_engine(url, pool_size=2)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, v INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
        try:
            yield engine
        finally:
            await engine.dispose()


async def _pg_error(
    engine: AsyncEngine, body: Callable[[AsyncConnection, AsyncConnection], Awaitable[None]]
) -> DBAPIError:
    """The database error ``body`` raises on one of two connections of ``engine``."""
    async with engine.connect() as first, engine.connect() as second:
        with pytest.raises(DBAPIError) as failed:
            await body(first, second)
        return failed.value


async def test_a_postgres_serialization_failure_is_transient_and_busy(
    pg_engine: AsyncEngine,
) -> None:
    async def lose_a_race(first: AsyncConnection, second: AsyncConnection) -> None:
        await second.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        await second.execute(text("SELECT v FROM t WHERE n = 1"))  # takes the snapshot
        await first.execute(text("UPDATE t SET v = 1 WHERE n = 1"))
        await first.commit()
        await second.execute(text("UPDATE t SET v = 2 WHERE n = 1"))

    failed = await _pg_error(pg_engine, lose_a_race)
    assert getattr(failed.orig, "sqlstate", None) == "40001"
    assert is_transient(failed)
    assert is_busy(failed)


async def test_a_postgres_deadlock_is_transient_and_busy(pg_engine: AsyncEngine) -> None:
    async def cross_locks(first: AsyncConnection, second: AsyncConnection) -> None:
        await first.execute(text("UPDATE t SET v = 1 WHERE n = 1"))
        await second.execute(text("UPDATE t SET v = 1 WHERE n = 2"))
        waiting = asyncio.create_task(first.execute(text("UPDATE t SET v = 1 WHERE n = 2")))
        try:
            await second.execute(text("UPDATE t SET v = 1 WHERE n = 1"))
        except DBAPIError:
            await second.rollback()  # frees row 1: the first connection's update goes on
            await waiting
            raise
        await waiting  # the server chose the first connection as the victim

    failed = await _pg_error(pg_engine, cross_locks)
    assert getattr(failed.orig, "sqlstate", None) == "40P01"
    assert is_transient(failed)
    assert is_busy(failed)


async def test_postgres_lock_and_statement_timeouts_are_busy_but_not_retried(
    pg_engine: AsyncEngine,
) -> None:
    async def row_taken(first: AsyncConnection, second: AsyncConnection) -> None:
        await first.execute(text("SELECT v FROM t WHERE n = 1 FOR UPDATE"))
        await second.execute(text("SELECT v FROM t WHERE n = 1 FOR UPDATE NOWAIT"))

    async def too_slow(first: AsyncConnection, _second: AsyncConnection) -> None:
        await first.execute(text("SET statement_timeout = 1"))
        await first.execute(text("SELECT pg_sleep(30)"))

    for body, sqlstate in ((row_taken, "55P03"), (too_slow, "57014")):
        failed = await _pg_error(pg_engine, body)
        assert getattr(failed.orig, "sqlstate", None) == sqlstate
        assert is_busy(failed)
        assert not is_transient(failed)


async def test_a_postgres_constraint_violation_is_neither(pg_engine: AsyncEngine) -> None:
    async def duplicate(first: AsyncConnection, _second: AsyncConnection) -> None:
        await first.execute(text("INSERT INTO t VALUES (1, 0)"))

    failed = await _pg_error(pg_engine, duplicate)
    assert getattr(failed.orig, "sqlstate", None) == "23505"
    assert not is_transient(failed)
    assert not is_busy(failed)
