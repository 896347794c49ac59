"""Upgrading a database that holds data keeps every row (SQLite table rebuilds included)."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text

from persistence import migrate
from persistence.engine import create_engine


async def test_upgrading_a_live_sqlite_database_keeps_rooms_and_their_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate.upgrade(engine, "0003")
        user, room, message = (uuid.uuid4().hex for _ in range(3))
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, role, is_active, "
                    "created_at, updated_at, token_version) VALUES (:id, 'a@b.org', 'A', 'x', "
                    "'instructor', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"
                ),
                {"id": user},
            )
            await connection.execute(
                text(
                    "INSERT INTO rooms (id, title, created_by, status, settings, created_at, "
                    "updated_at) VALUES (:id, 'Old room', :user, 'open', '{}', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": room, "user": user},
            )
            await connection.execute(
                text(
                    "INSERT INTO chat_messages (id, room_id, author_id, author_name, to_hosts, "
                    "text, reactions, created_at) VALUES (:id, :room, :user, 'A', 0, 'kept', "
                    "'{}', '2026-01-01 00:00:00')"
                ),
                {"id": message, "room": room, "user": user},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rooms = (await connection.execute(text("SELECT title FROM rooms"))).all()
            chat = (await connection.execute(text("SELECT text FROM chat_messages"))).all()
            fk = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert [r[0] for r in rooms] == ["Old room"]
        assert [c[0] for c in chat] == ["kept"]
        assert fk == 1
    finally:
        await engine.dispose()
