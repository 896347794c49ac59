"""Request-scoped dependencies shared by the REST modules: settings and a DB session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings


def get_settings(request: Request) -> Settings:
    """The node's settings, put on ``app.state`` by the composition root."""
    settings: Settings = request.app.state.settings
    return settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: a reader for GET/HEAD, a writer otherwise.

    On SQLite only writers take the write lock, so reads never queue behind writes.
    """
    state = request.app.state
    reads = request.method in READ_METHODS
    factory: async_sessionmaker[AsyncSession] = (
        state.read_sessionmaker if reads else state.sessionmaker
    )
    async with factory() as session:
        yield session


def writer_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The writer session factory, for a write during a read request."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it (after trusted proxy headers)."""
    return request.client.host if request.client else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
