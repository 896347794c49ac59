"""Running one short write transaction again when the database says it conflicted (a busy
SQLite file past its busy timeout, a PostgreSQL serialisation failure or deadlock): the
transaction was rolled back, so a retry is safe. 200 buyers at once wait in line instead of
getting 500s."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.transient import is_transient

T = TypeVar("T")
ATTEMPTS = 8


async def in_transaction(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    attempts: int = ATTEMPTS,
    first: AsyncSession | None = None,
) -> T:
    """``work(session)`` then commit, in a fresh session each try; errors other than a
    transient conflict (and the last conflict) propagate. ``first``: a session of the same
    database to make the first try in (the request's, which holds a connection already:
    taking another one queues behind every other request when the pool is busy); it is
    closed after that try."""
    for attempt in range(1, attempts + 1):
        try:
            async with first if first is not None and attempt == 1 else sessions() as session:
                result = await work(session)
                await session.commit()
                return result
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
        await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
