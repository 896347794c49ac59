"""Running a student's code against a question's tests: graded runs and practice runs.

``run_code`` is what grading calls (every test, hidden ones included) and what a practice
run calls with ``visible_only`` (a student trying their code while taking a quiz or in a
lab: the hidden tests never even enter the sandbox then, so nothing the code does can reveal
them). ``practice_run`` adds the per-person throttle that a route for students needs.
"""

from __future__ import annotations

import time

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.python_code import MAX_CODE, CodeRun, PythonCode
from lms.assessments.sandbox.errors import RunsThrottled
from lms.assessments.sandbox.harness import build_job, interpret
from lms.assessments.sandbox.pool import SandboxPool
from realtime.ratelimit import TokenBucket

MAX_THROTTLED_PEOPLE = 100_000
"""Buckets kept at most; the oldest are forgotten first (a forgotten person starts full)."""


async def run_code(
    definition: PythonCode, code: str, *, pool: SandboxPool, visible_only: bool = False
) -> CodeRun:
    """Run ``code`` then the question's tests (only the visible ones if ``visible_only``) in
    the sandbox, within the question's limits; the run's status, verdicts and output.

    Never raises for anything the code does (loops, memory, output, imports, crashes are
    statuses); raises ``InvalidResponse`` for oversize code and ``SandboxBusy`` when the
    pool's waiting line is full."""
    if len(code) > MAX_CODE:
        raise InvalidResponse(f"The code is longer than {MAX_CODE} characters.")
    tests = [test for test in definition.tests if not (visible_only and test.hidden)]
    job = build_job(definition, code, tests)
    limits = definition.limits
    memory = limits.memory_mb << 20
    request = {
        "job": job,
        "limits": {
            "wall_ms": limits.wall_ms,
            "memory_bytes": memory,
            "output_bytes": limits.output_bytes,
            "fuel": limits.wall_ms * pool.config.fuel_per_ms,
        },
    }
    raw = await pool.run(request, limits.wall_ms / 1000)
    return interpret(raw, tests, job["nonce"], memory)


class PracticeThrottle:
    """Practice runs per person: ``rate`` per second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, person: str) -> None:
        """Count one run for ``person``, or raise ``RunsThrottled``."""
        bucket = self._buckets.pop(person, None) or TokenBucket(self.rate, self.burst)
        self._buckets[person] = bucket  # most recent last
        if len(self._buckets) > MAX_THROTTLED_PEOPLE:
            del self._buckets[next(iter(self._buckets))]
        if not bucket.allow(time.monotonic()):
            raise RunsThrottled(
                "Too many practice runs; wait a moment.", retry_after=int(1 / self.rate) + 1
            )


async def practice_run(
    definition: PythonCode,
    code: str,
    *,
    person: str,
    pool: SandboxPool,
    throttle: PracticeThrottle,
) -> CodeRun:
    """A student's practice run against the visible tests, throttled per person."""
    throttle.take(person)
    return await run_code(definition, code, pool=pool, visible_only=True)
