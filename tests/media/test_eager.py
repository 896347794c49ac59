"""Eager coroutines: run to the end in the caller's stack, or carry on in a task."""

from __future__ import annotations

import asyncio
import logging

import pytest

from media.fastpath import eager


async def test_a_coroutine_that_never_waits_is_done_before_run_returns() -> None:
    done: list[str] = []

    async def handler() -> None:
        done.append("handled")

    eager.run(handler(), "handler")
    assert done == ["handled"]


async def test_a_coroutine_that_waits_finishes_in_a_task_with_the_awaited_value() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[object] = []

    async def handler() -> None:
        got.append("started")
        got.append(await future)
        await asyncio.sleep(0)  # a bare yield to the loop is resumed too
        got.append("ended")

    eager.run(handler(), "handler")
    assert got == ["started"]
    future.set_result(7)
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == ["started", 7, "ended"]


async def test_a_failing_coroutine_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def fails_at_once() -> None:
        raise ValueError("bad packet")

    async def fails_later() -> None:
        await future
        raise KeyError("gone")

    with caplog.at_level(logging.ERROR, logger="liveclass.media"):
        eager.run(fails_at_once(), "first")
        eager.run(fails_later(), "second")
        future.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)
    failures = [(r.getMessage(), r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert [m for m, _ in failures] == ["first failed", "second failed"]
    assert isinstance(failures[0][1], ValueError) and isinstance(failures[1][1], KeyError)


async def test_an_exception_thrown_into_a_waiting_coroutine_reaches_it() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    got: list[str] = []

    async def handler() -> None:
        try:
            await future
        except RuntimeError as exc:
            got.append(str(exc))

    eager.run(handler(), "handler")
    future.set_exception(RuntimeError("send failed"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == ["send failed"]
