"""Who holds a pooled connection, for the log line of a writer that waited too long.

On SQLite a node's writers share one connection (``persistence.engine``): a request or task
that keeps its writer session open across slow work stalls every other writer, which then
gives up after the pool's timeout with a 503. The 503 alone does not say who held the
connection; ``follow`` notes, for each checked-out connection, the asyncio task that took it
and when, and ``describe`` names the holders and where each one is waiting now.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_held: dict[int, tuple[asyncio.Task[Any] | None, float]] = {}


def follow(engine: AsyncEngine) -> None:
    """Note the task and time of every checkout of ``engine``'s connections until checkin."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop: a synchronous use
            task = None
        _held[id(record)] = (task, time.monotonic())

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _held.pop(id(record), None)


def describe(*, longer_than: float = 0.0) -> list[str]:
    """One line per connection held longer than ``longer_than`` seconds: the task's name,
    how long, and the innermost frame it is suspended in."""
    now = time.monotonic()
    lines = []
    for task, since in list(_held.values()):
        held = now - since
        if held < longer_than:
            continue
        lines.append(f"held {held:.1f} s by {_where(task)}")
    return lines


def _where(task: asyncio.Task[Any] | None) -> str:
    if task is None:
        return "no task"
    if task.done():
        return f"task {task.get_name()} (finished without giving it back)"
    stack = task.get_stack(limit=None)
    if not stack:
        return f"task {task.get_name()}"
    frame = stack[-1]
    code = frame.f_code
    return f"task {task.get_name()} at {code.co_filename}:{frame.f_lineno} in {code.co_name}"
