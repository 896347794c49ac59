"""Async engine and session factory, with the SQLite settings a server needs."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from persistence import holders


def is_sqlite(url: str) -> bool:
    """Tell whether ``url`` names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, pool_size: int = 10, busy_timeout_ms: int = 5000, read_only: bool = False
) -> AsyncEngine:
    """Create the engine; on SQLite turn on WAL, foreign keys and a busy timeout.

    On SQLite, writers take the write lock at BEGIN, so they queue instead of failing; a
    ``read_only`` engine (for GET requests) reads snapshots without taking that lock.
    """
    if not is_sqlite(url):
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _ping_on_checkout(engine)
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        make_private(Path(database))
    # One file has one writer at a time: writers wait for the one connection in the pool's
    # FIFO queue instead of in SQLite's busy handler, which sleeps in growing steps (up to
    # 100 ms) and is not fair: under a steady stream of writes one waiter could starve.
    writers = pool_size if read_only else 1
    engine = create_async_engine(
        url, pool_size=writers, max_overflow=0, pool_timeout=max(1.0, busy_timeout_ms / 1000)
    )
    _configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
    if not read_only:
        holders.follow(engine)
    return engine


def _ping_on_checkout(engine: AsyncEngine) -> None:
    """Test a pooled PostgreSQL connection before handing it out, in one round trip.

    What ``pool_pre_ping`` does, cheaper: on asyncpg its test is three round trips (BEGIN,
    SELECT, ROLLBACK; the transaction is for PgBouncer's transaction mode, which
    we do not support), measured at 9% of the node's CPU delivering payment webhooks and a
    fifth of a repeated event's. Here the test is the statement alone. A connection
    that fails it (the server restarted, a proxy cut it) is replaced at once: the pool
    retries the checkout with a new connection (`DisconnectionError`). A connection just
    opened is not tested.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        try:
            await_only(dbapi_connection.driver_connection.execute("SELECT 1"))
        except Exception as exc:  # any failure: a new connection rather than this one
            raise DisconnectionError(f"the pooled connection failed its test: {exc!r}") from exc


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def make_private(database: Path) -> None:
    """Make an SQLite database and its WAL, shared-memory and journal files owner-only (0600).

    SQLite gives the files it creates beside a database the database file's own mode, so the
    file is created 0600 before SQLite first opens it; files an older version left readable
    by others are tightened. A missing directory is created 0700.
    """
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in SQLITE_COMPANIONS:
        path = database.with_name(database.name + suffix)
        # Not there, or not ours to change: SQLite reports what matters when it opens it.
        with contextlib.suppress(OSError):
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, *, read_only: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()
        # Take the write lock at BEGIN: a deferred transaction that later upgrades
        # fails with SQLITE_BUSY at once in WAL mode, ignoring the busy timeout.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def single_statements(session: AsyncSession) -> None:
    """On PostgreSQL, run each of ``session``'s statements from now on in its own implicit
    transaction (autocommit): no BEGIN and COMMIT (or ROLLBACK) round trips around work
    that is one statement, or statements that need not commit together. Call it before
    the session's first statement; on SQLite, or in a session already in a transaction,
    it does nothing (its statements run in one transaction, as without it)."""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def create_sessionmaker(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses read them).

    ``session.info["read_only"]`` tells code that must write (audit records of refused
    reads, say) to use a writer session instead.
    """
    return async_sessionmaker(engine, expire_on_commit=False, info={"read_only": read_only})


def is_read_only(session: AsyncSession) -> bool:
    """Whether ``session`` came from a read-only session factory."""
    return bool(session.info.get("read_only"))
