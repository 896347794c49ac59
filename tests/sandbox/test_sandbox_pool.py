"""The sandbox pool under load and failure: its bound holds, a full line is a typed error,
a killed worker is replaced, and no code string can break it (Hypothesis)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kits.waiting import eventually
from lms.assessments.questions.python_code import CodeTest, Limits, PythonCode
from lms.assessments.sandbox import (
    PoolConfig,
    PracticeThrottle,
    RunsThrottled,
    SandboxBusy,
    SandboxPool,
    practice_run,
    run_code,
)

QUESTION = PythonCode(
    prompt="Write double(x).",
    tests=[
        CodeTest(id="one", name="one", source="assert double(1) == 2", hidden=False),
        CodeTest(id="many", name="many", source="assert [double(i) for i in range(9)][8] == 16"),
    ],
    limits=Limits(wall_ms=5_000, memory_mb=64, output_bytes=4_096),
)
GOOD = "def double(x):\n    return 2 * x\n"


@pytest.fixture(scope="module")
async def pool(sandbox_cache: Path) -> AsyncIterator[SandboxPool]:
    sandbox = SandboxPool(PoolConfig(workers=2, max_queue=100, cache_dir=sandbox_cache))
    yield sandbox
    await sandbox.aclose()


async def test_fifty_concurrent_runs_never_exceed_the_workers(pool: SandboxPool) -> None:
    pool.start()
    await eventually(lambda: len(pool.pids()) == 2, "both workers to start")
    results = await asyncio.gather(*(run_code(QUESTION, GOOD, pool=pool) for _ in range(50)))
    assert [r.status for r in results] == ["completed"] * 50, results
    assert all(t.passed for r in results for t in r.tests)
    assert pool.peak_busy == 2
    assert len(pool.pids()) == 2


async def test_a_full_line_is_a_typed_error(sandbox_cache: Path) -> None:
    small = SandboxPool(PoolConfig(workers=1, max_queue=2, cache_dir=sandbox_cache))
    try:
        await run_code(QUESTION, GOOD, pool=small)  # the worker is up and idle
        outcomes = await asyncio.gather(
            *(run_code(QUESTION, GOOD, pool=small) for _ in range(8)), return_exceptions=True
        )
    finally:
        await small.aclose()
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    busy = [o for o in outcomes if isinstance(o, SandboxBusy)]
    assert len(done) == 3  # one running, two waiting
    assert len(busy) == 5
    assert all(o.status == "completed" for o in done)
    assert busy[0].retry_after > 0


async def test_a_killed_worker_is_replaced(pool: SandboxPool) -> None:
    before = set(pool.pids())
    replaced = pool.replaced
    looping = asyncio.create_task(run_code(QUESTION, "while True:\n    pass\n", pool=pool))
    await eventually(lambda: pool.gauges()["busy"] >= 1, "the loop to start running")
    victim = next(iter(before))
    # Kill both: whichever is running the loop dies mid-run, the other dies idle.
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    result = await looping
    assert result.status in ("sandbox_error", "timeout")
    # The next runs may find the idle worker dead (sandbox_error for that run, never a
    # wrong grade); after the replacements every run completes.
    for _ in range(4):
        await run_code(QUESTION, GOOD, pool=pool)
    after = await run_code(QUESTION, GOOD, pool=pool)
    assert after.status == "completed"
    assert pool.replaced >= replaced + 2
    assert victim not in pool.pids()
    assert not before & set(pool.pids())


async def test_practice_runs_are_throttled_per_person(pool: SandboxPool) -> None:
    throttle = PracticeThrottle(rate=1 / 60, burst=2)
    for _ in range(2):
        result = await practice_run(QUESTION, GOOD, person="ada", pool=pool, throttle=throttle)
        assert [t.id for t in result.tests] == ["one"]
    with pytest.raises(RunsThrottled):
        await practice_run(QUESTION, GOOD, person="ada", pool=pool, throttle=throttle)
    other = await practice_run(QUESTION, GOOD, person="grace", pool=pool, throttle=throttle)
    assert other.status == "completed"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    code=st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                [
                    "def double(x):",
                    "    return 2 * x",
                    "    return x",
                    "import sys",
                    "print('\\x00\\udcff')",
                    "sys.stdout.write('x' * 10)",
                    "raise SystemExit(3)",
                    "raise KeyboardInterrupt",
                    "del __builtins__",
                    "import builtins; builtins.__import__ = None",
                    "sys.setrecursionlimit(10)",
                    "x = 1/0",
                    "'''",
                    "lambda: (yield)",
                    "while False: pass",
                ]
            ),
            max_size=8,
        ).map("\n".join),
    )
)
async def test_arbitrary_code_never_breaks_the_pool(pool: SandboxPool, code: str) -> None:
    result = await run_code(QUESTION, code, pool=pool)
    assert result.status != "sandbox_error"
    assert len(result.output) <= 2_000


async def test_the_pool_still_grades_after_the_fuzzing(pool: SandboxPool) -> None:
    result = await run_code(QUESTION, GOOD, pool=pool)
    assert result.status == "completed"
    assert all(t.passed for t in result.tests)


async def test_a_worker_dead_between_runs_costs_the_next_student_nothing(
    sandbox_cache: Path,
) -> None:
    single = SandboxPool(PoolConfig(workers=1, max_queue=5, cache_dir=sandbox_cache))
    try:
        assert (await run_code(QUESTION, GOOD, pool=single)).status == "completed"
        (dead,) = single.pids()
        os.kill(dead, signal.SIGKILL)
        result = await run_code(QUESTION, GOOD, pool=single)  # tried again on a new worker
        assert result.status == "completed"
        assert all(t.passed for t in result.tests)
        assert single.replaced == 1
        assert dead not in single.pids()
    finally:
        await single.aclose()
