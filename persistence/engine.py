"""Async engine and session factory, with the SQLite settings a server needs."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    database = make_url(url).database
    if database and database != ":memory:":
        make_private(Path(database))
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    _configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
    return engine


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
