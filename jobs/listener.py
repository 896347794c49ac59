"""PostgreSQL LISTEN: one connection per process that wakes its workers and dispatcher
when another transaction enqueued jobs or emitted events (``NOTIFY`` at commit).

If the connection drops it is opened again with backoff; meanwhile the workers' slow
poll keeps jobs moving, and every wake-up function is called once it is back (whatever
was notified while it was gone is picked up by that round).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from jobs.retry import Backoff

RECONNECT = Backoff(base=0.2, cap=5.0)
"""Before connecting again after the listening connection failed."""

logger = logging.getLogger("liveclass.jobs")
PING_SECONDS = 15.0


def asyncpg_dsn(url: str) -> str:
    """The plain PostgreSQL DSN of a ``postgresql+asyncpg://`` SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Calls ``wakers[channel]()`` whenever ``channel`` is notified."""

    def __init__(self, url: str, wakers: dict[str, Callable[[], None]]) -> None:
        self.dsn = asyncpg_dsn(url)
        self.wakers = wakers
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect and listen, in the background."""
        self._task = asyncio.create_task(self._run(), name="jobs-listen")

    def _notified(self, _connection: Any, _pid: int, channel: str, _payload: str) -> None:
        wake = self.wakers.get(channel)
        if wake is not None:
            wake()

    async def _run(self) -> None:
        failures = 0
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                for channel in self.wakers:
                    await connection.add_listener(channel, self._notified)
                self.connected.set()
                failures = 0
                for wake in self.wakers.values():
                    wake()  # whatever was notified while we were away
                while not lost.is_set():  # a silent network drop shows at the next ping
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(PING_SECONDS):
                            await lost.wait()
                    if not lost.is_set():
                        await asyncio.wait_for(connection.fetchval("SELECT 1"), PING_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("jobs listener: %s", exc)
            finally:
                self.connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            failures += 1
            await asyncio.sleep(RECONNECT.delay(failures, random.random()))

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
