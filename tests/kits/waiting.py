"""Waiting for something another task or process makes true: a liveness bound that fails the
test after ``within`` seconds, never a timing assertion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    what: str = "condition",
    *,
    within: float = 60.0,
    interval: float = 0.02,
) -> None:
    """Poll ``check`` (sync or async) until it holds; AssertionError naming ``what`` if it
    has not after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if outcome if isinstance(outcome, bool) else await outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)
