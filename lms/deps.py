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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request, closed (rolled back if uncommitted) at the end."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        yield session


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it (after trusted proxy headers)."""
    return request.client.host if request.client else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
