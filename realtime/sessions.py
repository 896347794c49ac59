"""How every WebSocket session (room channel, Yjs channel) runs and ends: one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.errors import RealtimeError, SlowConsumerError

logger = logging.getLogger("liveclass.realtime")
FLUSH_SECONDS = 2.0


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
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        await websocket.close(code=code, reason=reason)
