"""Graded-code sandbox benchmark (issue 19): the time of one graded run and runs per core.

**Per run.** A Python code question (``add(a, b)``, five tests, two of them hidden) is
graded ``--runs`` times, one after another, through ``run_code`` and a pool of one worker:
the time the caller waits (the job sent over the pipe, a fresh wasmtime store and
instance, WASI CPython starting, the harness, the student's code and the tests, the
verdicts read back and interpreted). Baseline in the same run, alternating with ours: the
SAME harness (``lms/assessments/sandbox/guest.py``) with the same job on its stdin, run by
native CPython as ``python -S -I -c <harness>`` in a fresh process (what grading without a
sandbox would cost at the least: a new interpreter per student so that none sees another's
state). Overhead = our median minus the baseline's median (target: < 150 ms). A second
workload, ``compute`` (a student's loop of 300,000 iterations), shows how much slower the
interpreter runs inside WebAssembly.

**Throughput.** ``--workers`` workers (default: the machine's cores) and twice as many
concurrent callers grade ``--load`` runs; reported: runs per second and runs per CPU-second
of the worker processes plus the server process (``/proc/PID/stat``), i.e. runs per second
per core when every core is busy.

    python bench/sandbox.py                  # ~1 minute (the first run compiles ~10 s)
    python bench/sandbox.py --runs 20 --load 40   # a quick look

Prints one JSON object. Results: docs/benchmarks.md, "Graded code sandbox".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import marshal
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchpath import ROOT

from lms.assessments.questions.python_code import CodeTest, Limits, PythonCode
from lms.assessments.sandbox import PoolConfig, SandboxPool, run_code
from lms.assessments.sandbox.harness import build_job

GUEST = (ROOT / "lms/assessments/sandbox/guest.py").read_text()
TESTS = [
    CodeTest(id="t1", name="small", source="assert add(1, 2) == 3", hidden=False),
    CodeTest(id="t2", name="zero", source="assert add(0, 0) == 0", hidden=False),
    CodeTest(id="t3", name="negative", source="assert add(-5, 2) == -3", hidden=False),
    CodeTest(id="t4", name="big", source="assert add(10**20, 1) == 10**20 + 1"),
    CodeTest(id="t5", name="floats", source="assert abs(add(0.1, 0.2) - 0.3) < 1e-9"),
]
WORKLOADS = {
    "add": "def add(a, b):\n    return a + b\n",
    "compute": (
        "def add(a, b):\n    return a + b\n"
        "total = 0\nfor i in range(300_000):\n    total = add(total, i % 7)\n"
    ),
}
QUESTION = PythonCode(prompt="Write add(a, b).", tests=TESTS, limits=Limits(wall_ms=10_000))


def native_run(code: str) -> float:
    """Seconds for native CPython to run the same harness and job in a fresh process."""
    job = marshal.dumps(build_job(QUESTION, code, TESTS))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", GUEST], input=job, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or b" end " not in done.stderr:
        raise RuntimeError(f"native baseline failed: {done.stderr[-500:]!r}")
    return elapsed


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
    }


async def per_run(cache: Path, runs: int) -> dict[str, object]:
    pool = SandboxPool(PoolConfig(workers=1, max_queue=10, cache_dir=cache))
    try:
        started = time.perf_counter()
        first = await run_code(QUESTION, WORKLOADS["add"], pool=pool)  # waits for the worker
        startup = time.perf_counter() - started
        assert first.status == "completed" and all(t.passed for t in first.tests), first
        report: dict[str, object] = {"worker_start_s": round(startup, 2)}
        for name, code in WORKLOADS.items():
            ours: list[float] = []
            inside: list[float] = []
            native: list[float] = []
            for _ in range(runs):
                started = time.perf_counter()
                result = await run_code(QUESTION, code, pool=pool)
                ours.append(time.perf_counter() - started)
                inside.append(result.duration_ms / 1000)
                assert result.status == "completed", result
                native.append(await asyncio.to_thread(native_run, code))
            ours_s, native_s = summary(ours), summary(native)
            report[name] = {
                "sandbox": ours_s,
                "in_worker": summary(inside),
                "native_python_c": native_s,
                "overhead_ms": round(ours_s["median_ms"] - native_s["median_ms"], 1),
                "ratio": round(ours_s["median_ms"] / native_s["median_ms"], 2),
            }
        return report
    finally:
        await pool.aclose()


async def throughput(cache: Path, workers: int, load: int) -> dict[str, object]:
    pool = SandboxPool(PoolConfig(workers=workers, max_queue=load, cache_dir=cache))
    try:
        await asyncio.gather(*(run_code(QUESTION, WORKLOADS["add"], pool=pool) for _ in range(8)))
        pids = pool.pids()
        cpu_before = sum(cpu_seconds(pid) for pid in pids) + time.process_time()
        started = time.perf_counter()
        callers = 2 * workers
        queue = list(range(load))

        async def caller() -> None:
            while queue:
                queue.pop()
                result = await run_code(QUESTION, WORKLOADS["add"], pool=pool)
                assert result.status == "completed", result

        await asyncio.gather(*(caller() for _ in range(callers)))
        elapsed = time.perf_counter() - started
        cpu = sum(cpu_seconds(pid) for pid in pids) + time.process_time() - cpu_before
        return {
            "workers": workers,
            "callers": callers,
            "runs": load,
            "runs_per_second": round(load / elapsed, 1),
            "cpu_seconds": round(cpu, 2),
            "runs_per_cpu_second": round(load / cpu, 1),
            "peak_busy": pool.peak_busy,
        }
    finally:
        await pool.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--load", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=None, help="compiled-module cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache or Path(scratch)
        report = {
            "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
            "per_run": await per_run(cache, args.runs),
            "throughput": await throughput(cache, args.workers, args.load),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
