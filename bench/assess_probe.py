"""Node CPU per quiz request (issue 19): starts, autosaves and submits measured apart.

A node from this tree (``kits.bench.BenchNode``), set up as ``bench/assessments.py`` sets
it up (students, a course, a 20-question bank, an untimed quiz), then three phases, each
with ``--concurrency`` clients: every student starts an attempt, ``--saves`` autosaves
in all, every student submits. For each phase: requests, node CPU (utime+stime of its
process, /proc/PID/stat) per request, wall time; and the CPU per request with the work the
phase left behind in the node (events dispatched, jobs they queued: a submission's grade
notification), waited for until the node is idle, so a phase's figure does not depend on
how far behind its background was when the last response came. ``--profile DIR`` runs
py-spy (raw) on the node during each phase. The load average is printed next to the
figures.

    python bench/assess_probe.py --backends sqlite --students 200 --saves 4000
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchpath
import httpx
import orjson

from kits.bench import BenchNode
from kits.servers import start_postgres
from kits.stats import cpu_seconds, cpu_seconds_or_zero

_spec = importlib.util.spec_from_file_location(
    "bench_assessments", benchpath.ROOT / "bench" / "assessments.py"
)
assert _spec is not None and _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
_setup = _bench._setup


def _spy_on(pid: int, out: str) -> subprocess.Popen[bytes]:
    """py-spy (raw output) on ``pid`` until sent SIGINT."""
    command = ["py-spy", "record", "-p", str(pid), "-r", "200", "-f", "raw", "--nonblocking"]
    return subprocess.Popen(
        [*command, "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _threads(pid: int) -> dict[str, float]:
    """CPU seconds of the node's threads so far, summed by name (the main thread as main)."""
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            seconds = cpu_seconds(f"{pid}/task/{task.name}")
        except OSError:
            continue
        name = "main" if task.name == str(pid) else comm
        found[name] = found.get(name, 0.0) + seconds
    return found


async def _phase(
    node: BenchNode,
    name: str,
    calls: list[tuple[str, str, str, Any]],
    concurrency: int,
    profile: str = "",
) -> dict[str, Any]:
    """Send ``calls`` (method, path, token, json) with ``concurrency`` clients (py-spy on
    the node meanwhile when ``profile`` names a file)."""
    spy = _spy_on(node.pid, profile) if profile else None
    if spy is not None:
        await asyncio.sleep(1)  # py-spy attached
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=None)
    results: list[httpx.Response] = [None] * len(calls)  # type: ignore[list-item]
    async with httpx.AsyncClient(base_url=node.url, limits=limits, timeout=120) as http:
        queue = list(reversed(list(enumerate(calls))))

        async def worker() -> None:
            while queue:
                index, (method, path, token, body) = queue.pop()
                while True:
                    try:
                        got = await http.request(
                            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                        )
                    except httpx.TransportError:  # a kept-alive connection the node closed
                        continue
                    if got.status_code != 503:
                        break
                    await asyncio.sleep(0.2)
                results[index] = got

        threads0 = _threads(node.pid)
        batches0, saves0, _jobs = _bench._autosave_counters(node.url)
        cpu0, wall0 = cpu_seconds_or_zero(node.pid), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds_or_zero(node.pid) - cpu0
        batches1, saves1, _jobs = _bench._autosave_counters(node.url)
        threads1 = _threads(node.pid)
        drained = await _drained(node.pid) - cpu0
    if spy is not None:
        spy.send_signal(2)
        spy.wait()
    per = round(1000 * cpu / max(1, len(results)), 2)
    behind = round(1000 * drained / max(1, len(results)), 2)
    print(name, len(results), per, "ms/req,", behind, "with background", file=sys.stderr)
    bad = [r.status_code for r in results if r.status_code >= 300]
    return {
        "phase": name,
        "requests": len(results),
        "failed": len(bad),
        "failed_codes": sorted(set(bad)),
        "node_cpu_ms_per_request": round(1000 * cpu / max(1, len(results)), 2),
        "node_cpu_ms_per_request_with_background": round(1000 * drained / max(1, len(results)), 2),
        "node_cpu_share_of_a_core": round(cpu / wall, 2),
        "requests_per_second": round(len(results) / wall, 1),
        "load_1m": round(os.getloadavg()[0], 2),
        "saves_per_commit": round((saves1 - saves0) / max(1.0, batches1 - batches0), 1),
        "cpu_ms_per_request_by_thread": {
            k: round(1000 * (v - threads0.get(k, 0.0)) / max(1, len(results)), 2)
            for k, v in sorted(threads1.items())
            if v - threads0.get(k, 0.0) > 0.005
        },
        "responses": results,
    }


async def _drained(pid: int, idle: float = 0.02, most: float = 60.0) -> float:
    """The node's CPU seconds once the work the phase left behind is done (the events it
    emitted, the jobs they queued): polled until the node uses under ``idle`` of a core
    for half a second, or ``most`` seconds passed."""
    before, until = cpu_seconds_or_zero(pid), time.perf_counter() + most
    while time.perf_counter() < until:
        await asyncio.sleep(0.5)
        now = cpu_seconds_or_zero(pid)
        if now - before < idle * 0.5:
            return now
        before = now
    return before


def _spy(args: argparse.Namespace, backend: str, phase: str) -> str:
    return str(Path(args.profile) / f"{backend}-{phase}.txt") if args.profile else ""


async def _backend(name: str, url: str, args: argparse.Namespace, tmp: Path) -> list[Any]:
    env = _bench.node_env(url)
    node = BenchNode(tmp / name, env).start(timeout=300)
    out = []
    try:
        quiz = await _setup(node, url, args.students, 60.0)
        tokens = node.students
        floor = await _phase(
            node, "healthz", [("GET", "/healthz", t, None) for t in tokens * 20], args.concurrency
        )
        floor.pop("responses")
        out.append(floor)
        started = await _phase(
            node,
            "start",
            [("POST", f"/api/v1/quizzes/{quiz['untimed']}/attempts", t, None) for t in tokens],
            args.concurrency,
            _spy(args, name, "start"),
        )
        attempts = [r.json() for r in started.pop("responses")]
        out.append(started)
        saves = []
        for n in range(args.saves):
            i = n % len(tokens)
            attempt = attempts[i]
            q = attempt["questions"][(n // len(tokens)) % len(attempt["questions"])]
            value = f"{i}.{n:05d}" if q["view"]["type"] == "numeric" else f"s{i} save {n}"
            body = {"seq": n + 1, "answers": {q["id"]: {"answer": value}}}
            saves.append(("PUT", f"/api/v1/attempts/{attempt['id']}/answers", tokens[i], body))
        saved = await _phase(node, "save", saves, args.concurrency, _spy(args, name, "save"))
        saved.pop("responses")
        out.append(saved)
        submitted = await _phase(
            node,
            "submit",
            [
                ("POST", f"/api/v1/attempts/{a['id']}/submit", t, None)
                for a, t in zip(attempts, tokens, strict=True)
            ],
            args.concurrency,
            _spy(args, name, "submit"),
        )
        submitted.pop("responses")
        out.append(submitted)
    finally:
        node.stop()
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="probe-assessments-") as tmp_dir:
        tmp = Path(tmp_dir)
        if "sqlite" in args.backends:
            url = f"sqlite+aiosqlite:///{tmp / 'sqlite.db'}"
            result["sqlite"] = await _backend("sqlite", url, args, tmp)
        if "postgres" in args.backends:
            server = start_postgres()
            try:
                result["postgres"] = await _backend("postgres", server.create_database(), args, tmp)
            finally:
                server.stop()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--saves", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--profile", default="")
    args = parser.parse_args(sys.argv[1:])
    print(orjson.dumps(asyncio.run(main(args)), option=orjson.OPT_INDENT_2).decode())
