"""How every WebSocket session (room channel, Yjs channel) runs and ends: one place.

Two forms. `read_until_stopped` + `close_after_flush` read in the session's own task and
use an on-demand `ConnectionWriter` (no task per connection while it is idle);
`run_until_done` + `finish` run the reader and a dedicated writer as tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.connection import ConnectionWriter
from realtime.errors import RealtimeError, SlowConsumerError

logger = logging.getLogger("liveclass.realtime")
FLUSH_SECONDS = 2.0

_closes: Counter[int] = Counter()


def closes_by_code() -> dict[str, float]:
    """Sessions ended in this process, by the close code sent (1000: the client left)."""
    return {str(code): float(count) for code, count in sorted(_closes.items())}


class _Interrupt:
    """The ``stopped`` callback that cancels the reading task, once, while it reads."""

    __slots__ = ("consumed", "fired", "reading", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.reading = True
        self.fired = False
        self.consumed = False

    def __call__(self, _: object) -> None:
        if self.reading and not self.fired:
            self.fired = True
            self.task.cancel()


async def read_until_stopped(
    read: Coroutine[Any, Any, None], stopped: asyncio.Future[RealtimeError], *, name: str
) -> RealtimeError | None:
    """Run ``read`` in this task until the client leaves or ``stopped`` is resolved (which
    interrupts the read); return the error to close with (None: a normal close)."""
    if stopped.done():
        read.close()
        return stopped.result()
    task = asyncio.current_task()
    assert task is not None
    interrupt = _Interrupt(task)
    stopped.add_done_callback(interrupt)
    try:
        await read
    except asyncio.CancelledError:
        if interrupt.fired:
            interrupt.consumed = True
            if task.uncancel() == 0:
                return stopped.result()
        raise
    except RealtimeError as exc:
        return exc
    except Exception:
        logger.exception("%s session failed", name)
        return RealtimeError()
    finally:
        interrupt.reading = False
        stopped.remove_done_callback(interrupt)
        if interrupt.fired and not interrupt.consumed:
            # Interrupted as the read ended some other way: the cancellation must not
            # escape into the session's teardown.
            task.uncancel()
    return stopped.result() if stopped.done() else None


def forget_handshake(websocket: WebSocket) -> None:
    """Drop what only the handshake needed once the session has read it: the query string
    (a join token) and the request headers, with Starlette's parsed copies (~1.5 KB)."""
    websocket.scope["query_string"] = b""
    websocket.scope["headers"] = []
    for cached in ("_query_params", "_headers"):
        websocket.__dict__.pop(cached, None)


async def close_after_flush(
    websocket: WebSocket, writer: ConnectionWriter, error: RealtimeError | None
) -> None:
    """Let queued frames go out (briefly), then close with ``error``'s code; an overflowed
    queue makes it the slow-consumer code."""
    writer.close()
    await writer.drain(FLUSH_SECONDS)
    if writer.slow:
        error = error or SlowConsumerError()
    await close(websocket, error)


async def run_until_done(
    read: Coroutine[Any, Any, None],
    stopped: asyncio.Future[RealtimeError],
    writer: asyncio.Task[None],
    *,
    name: str,
) -> RealtimeError | None:
    """Read until the client leaves, the server stops the session, or the writer fails;
    return the error to close with (None: a normal close)."""
    reader = asyncio.create_task(read)
    waiters: list[asyncio.Future[Any]] = [reader, stopped, writer]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        reader.cancel()
    if stopped.done():
        return stopped.result()
    for task in (reader, writer):
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            if isinstance(exc, RealtimeError):
                return exc
            logger.error("%s session failed", name, exc_info=exc)
            return RealtimeError()
    return None


async def finish(
    websocket: WebSocket, writer: asyncio.Task[None], error: RealtimeError | None
) -> None:
    """Let queued frames go out (briefly), then close with ``error``'s code.

    The writer's end never escapes: a writer stuck on a stalled socket is cancelled, and a
    slow-consumer failure becomes the close code.
    """
    await asyncio.wait({writer}, timeout=FLUSH_SECONDS)
    if not writer.done():
        writer.cancel()
        await asyncio.wait({writer})
    if not writer.cancelled() and isinstance(writer.exception(), SlowConsumerError):
        error = error or SlowConsumerError()
    await close(websocket, error)


async def close(websocket: WebSocket, error: RealtimeError | None) -> None:
    """Close with ``error``'s code and reason (1000 when None); ignore a gone socket."""
    code = error.close_code if error else 1000
    reason = error.reason if error else ""
    _closes[code] += 1
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        await websocket.close(code=code, reason=reason)
