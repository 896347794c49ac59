"""Alembic migrations on real SQLite and PostgreSQL databases: they build exactly the
models' schema, are idempotent, serialise concurrent runs, and make the audit log
append-only inside the database itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, func, insert, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kits.servers import ROOT, PostgresServer, postgres_database
from lms.files.schemas import FileOut
from lms.files.service import content_key, is_immutable
from persistence import migrate
from persistence.engine import create_engine
from persistence.models import AuditEvent, Base, Course, File, User
from persistence.models.base import utcnow


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    with postgres_database(server) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the fresh database, disposed after the test."""
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


def schema_differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    """The tables in the database."""
    return set(inspect(connection).get_table_names())


async def test_migrations_build_exactly_the_models_schema(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        tables = await connection.run_sync(table_names)
    assert set(Base.metadata.tables) <= tables


async def test_an_empty_database_differs_from_the_models(engine: AsyncEngine) -> None:
    """The comparison is not vacuous: before migrating, every table is missing."""
    async with engine.connect() as connection:
        differences = await connection.run_sync(schema_differences)
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert added == set(Base.metadata.tables)


async def test_migrating_twice_is_a_no_op(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(
            AuditEvent.__table__.insert().values(action="test.marker", detail={"keep": True})
        )
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        versions = (await connection.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
        kept = (
            await connection.execute(select(func.count()).where(AuditEvent.action == "test.marker"))
        ).scalar()
    assert versions == 1
    assert kept == 1


async def test_audit_events_refuse_update_and_delete(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    table = AuditEvent.__table__
    async with engine.begin() as connection:
        inserted = await connection.execute(
            table.insert().values(action="test.append_only", outcome="success", detail={"n": 1})
        )
        event_id = inserted.inserted_primary_key[0]

    attempts = [
        table.update().where(table.c.id == event_id).values(outcome="failure"),
        table.update().values(detail={}),
        table.delete().where(table.c.id == event_id),
        table.delete(),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(statement)

    async with engine.connect() as connection:
        row = (await connection.execute(select(table).where(table.c.id == event_id))).one()
        count = (await connection.execute(select(func.count()).select_from(table))).scalar()
    assert row.outcome == "success"
    assert row.detail == {"n": 1}
    assert count == 1
    # Appending still works.
    async with engine.begin() as connection:
        await connection.execute(table.insert().values(action="test.more", detail={}))


async def test_postgres_audit_events_refuse_truncate(
    pg_server: PostgresServer,
) -> None:
    with postgres_database(pg_server) as url:
        engine = create_engine(url, pool_size=1)
        try:
            await migrate.upgrade(engine)
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text("TRUNCATE audit_events"))
        finally:
            await engine.dispose()


def test_concurrent_migrations_on_postgres_all_succeed(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    """Several nodes starting together on one fresh database: the advisory lock lets one
    migrate while the others wait, then find nothing left to do."""
    with postgres_database(pg_server) as url:
        env = {
            **os.environ,
            "LIVECLASS_DATABASE_URL": url,
            "LIVECLASS_SECRET_KEY": "m" * 48,
            "LIVECLASS_DATA_DIR": str(tmp_path),
        }
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "server", "migrate"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [(p.wait(120), *p.communicate()) for p in processes]
        for code, stdout, stderr in results:
            assert code == 0, stderr
            assert f"database at revision {migrate.head_revision()}" in stdout


async def test_concurrent_upgrades_on_postgres_all_succeed(pg_server: PostgresServer) -> None:
    """The same race in one process, started at the same instant on separate engines."""
    with postgres_database(pg_server) as url:
        engines = [create_engine(url, pool_size=1) for _ in range(6)]
        try:
            outcomes = await asyncio.gather(
                *(migrate.upgrade(e) for e in engines), return_exceptions=True
            )
            assert [o for o in outcomes if o is not None] == []
            assert await migrate.current_revision(engines[0]) == migrate.head_revision()
            async with engines[0].connect() as connection:
                assert await connection.run_sync(schema_differences) == []
        finally:
            for e in engines:
                await e.dispose()


LEGACY_FILE_COLUMNS = (
    "course_id",
    "uploader_id",
    "name",
    "size",
    "sha256",
    "content_type",
    "blob_key",
    "created_at",
)


async def test_files_stored_before_blake3_keep_their_sha256_and_key(engine: AsyncEngine) -> None:
    """0030 names new files by BLAKE3; a file stored before keeps its SHA-256, its
    ``files/sha256/...`` blob key (still served as immutable) and shows in the files API."""
    await migrate.upgrade(engine, "0029")
    legacy_key = f"files/sha256/ab/{'ab' * 32}"
    async with AsyncSession(engine) as session, session.begin():
        owner = User(email="old@example.org", name="Old", password_hash="x")
        session.add(owner)
        await session.flush()
        course = Course(code="OLD-1", title="Old", created_by=owner.id)
        session.add(course)
        await session.flush()
        files_before = table(  # the table as 0029 left it: no blake3 column
            "files",
            *(column(name, File.__table__.c[name].type) for name in LEGACY_FILE_COLUMNS),
        )
        await session.execute(
            insert(files_before).values(
                course_id=course.id,
                uploader_id=owner.id,
                name="old.pdf",
                size=3,
                sha256="ab" * 32,
                content_type="application/pdf",
                blob_key=legacy_key,
                created_at=utcnow(),
            )
        )
    await migrate.upgrade(engine)
    async with AsyncSession(engine) as session:
        old = (await session.execute(select(File))).scalar_one()
        shown = FileOut.model_validate(old)
        assert (shown.sha256, shown.blake3) == ("ab" * 32, None)
        assert old.blob_key == legacy_key and is_immutable(legacy_key)
        assert content_key("cd" * 32) == f"files/blake3/cd/{'cd' * 32}"
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
