"""Run a coroutine now, in the caller's stack, and hand it to a task only if it suspends.

aiortc's receive handlers are coroutines that almost never wait (they only await sends that
complete at once). Starting each in its own task costs a scheduling round trip per packet;
``run`` drives the coroutine to its end directly, like Python 3.12's eager tasks, and a
coroutine that does suspend carries on in a task from where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any

logger = logging.getLogger("liveclass.media")


def run(coro: Coroutine[Any, Any, None], what: str) -> None:
    """Drive ``coro`` until it ends or suspends; log (as ``what``) instead of raising."""
    try:
        awaited = coro.send(None)
    except StopIteration:
        return
    except Exception:
        logger.exception("%s failed", what)
        return
    asyncio.get_running_loop().create_task(_finish(coro, awaited, what))


async def _finish(coro: Coroutine[Any, Any, None], awaited: Any, what: str) -> None:
    try:
        await _Resumed(coro, awaited)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("%s failed", what)


class _Resumed:
    """Awaitable that continues a suspended coroutine from the value it last yielded."""

    def __init__(self, coro: Coroutine[Any, Any, None], awaited: Any) -> None:
        self._coro = coro
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, None]:
        awaited = self._awaited
        while True:
            try:
                value = yield awaited
            except BaseException as exc:  # the task cancels or throws into us: pass it on
                try:
                    awaited = self._coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    awaited = self._coro.send(value)
                except StopIteration:
                    return
