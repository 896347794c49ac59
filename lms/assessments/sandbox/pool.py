"""A pool of sandbox worker processes, bounded, with a cap on the runs waiting for one.

Each worker (``worker.py``) is a child process speaking length-prefixed JSON frames over
its pipes, one run at a time; the server process only writes jobs and reads results. A
run waits for an idle worker; past ``max_queue`` waiting runs, or after ``queue_timeout``
seconds without a worker, the caller gets ``SandboxBusy`` (a 503 with Retry-After) instead
of an unbounded queue.

A worker that does not answer by the run's wall clock limit plus ``grace`` seconds (a
sleep outside the interpreter, a wasmtime bug) is killed and the run's raw result says so
(``killed``); one whose pipe breaks is dropped and its run tried once more; a fresh worker
takes a dead one's place.
Other students' runs are untouched: they are in other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lms.assessments.sandbox.errors import SandboxBusy

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
"""The directory holding the ``lms`` package: the worker imports it from there."""
MAX_FRAME = 64 << 20


@dataclass(frozen=True)
class PoolConfig:
    """How many workers, how many runs may wait, and where compiled code is cached."""

    workers: int
    max_queue: int
    cache_dir: Path
    fuel_per_ms: int = 10_000_000  # wasm instructions a run may execute per ms of its limit
    queue_timeout: float = 30.0
    grace: float = 2.0
    start_timeout: float = 300.0  # the first start compiles the interpreter (seconds of CPU)


class _Worker:
    """One child process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.calls = 0

    async def call(self, message: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        body = json.dumps(message).encode()
        stdin.write(struct.pack(">I", len(body)) + body)
        await stdin.drain()
        return await read_frame(stdout)

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


async def read_frame(stream: asyncio.StreamReader) -> dict[str, Any]:
    """One length-prefixed JSON object from a worker (EOF: the worker died)."""
    (size,) = struct.unpack(">I", await stream.readexactly(4))
    if size > MAX_FRAME:
        raise ConnectionError(f"frame of {size} bytes from a sandbox worker")
    message: dict[str, Any] = json.loads(await stream.readexactly(size))
    return message


class SandboxPool:
    """Worker processes running sandboxed code for this node, started on first use."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._starting: set[asyncio.Task[None]] = set()
        self._waiting = 0
        self._busy = 0
        self._started = False
        self._ready_once = False
        self._closed = False
        self._ids = 0
        self.peak_busy = 0
        self.runs = 0
        self.replaced = 0

    def start(self) -> None:
        """Begin starting the workers (they become idle when their runtime is loaded)."""
        if self._started or self._closed:
            return
        self._started = True
        for _ in range(self.config.workers):
            self._spawn_later()

    async def run(self, request: dict[str, Any], wall_seconds: float) -> dict[str, Any]:
        """Run one request on a worker; its raw result (``killed`` set if it had to be).

        A worker whose pipe breaks (it was killed, or died between two runs) is replaced and
        the run is tried once more on another: a student pays for a worker's death only if
        their own code killed two."""
        raw = await self._run_once(request, wall_seconds)
        if raw.get("killed") == "crashed":
            raw = await self._run_once(request, wall_seconds)
        return raw

    async def _run_once(self, request: dict[str, Any], wall_seconds: float) -> dict[str, Any]:
        self.start()
        if self._closed:
            raise SandboxBusy("The code runner is shutting down.", retry_after=5)
        try:
            worker = self._idle.get_nowait()
        except asyncio.QueueEmpty:
            worker = await self._wait_for_worker()
        self._busy += 1
        self.peak_busy = max(self.peak_busy, self._busy)
        self._ids += 1
        try:
            reply = await asyncio.wait_for(
                worker.call({**request, "id": self._ids}), wall_seconds + self.config.grace
            )
        except TimeoutError:
            await self._replace(worker, "did not answer in time")
            return {"killed": "timeout", "duration_ms": round(wall_seconds * 1000)}
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            await self._replace(worker, f"broke its pipe ({exc!r})")
            return {"killed": "crashed"}
        finally:
            self._busy -= 1
            self.runs += 1
        worker.calls += 1
        self._idle.put_nowait(worker)
        raw: dict[str, Any] = reply["raw"]
        return raw

    async def _wait_for_worker(self) -> _Worker:
        """An idle worker once one is free, unless the line is full or it takes too long."""
        if self._waiting >= self.config.max_queue:
            raise SandboxBusy("Too many code runs are waiting; try again shortly.", retry_after=2)
        self._waiting += 1
        # Until a first worker is up (the first start on a machine compiles the interpreter,
        # tens of seconds), runs wait as long as a start may take, not the usual line.
        patience = self.config.queue_timeout if self._ready_once else self.config.start_timeout
        try:
            return await asyncio.wait_for(self._idle.get(), patience)
        except TimeoutError:
            raise SandboxBusy("No code runner is free; try again shortly.", retry_after=5) from None
        finally:
            self._waiting -= 1

    async def aclose(self) -> None:
        """Stop every worker (runs in progress end as crashed)."""
        self._closed = True
        for task in list(self._starting):
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        await asyncio.gather(*(worker.kill() for worker in list(self._all)))
        self._all.clear()

    def pids(self) -> list[int]:
        """The worker processes' ids (tests kill one to see it replaced)."""
        return [worker.process.pid for worker in self._all]

    def gauges(self) -> dict[str, float]:
        """Numbers for /metrics."""
        return {
            "workers": len(self._all),
            "busy": self._busy,
            "waiting": self._waiting,
            "runs_total": self.runs,
            "replaced_total": self.replaced,
        }

    async def _replace(self, worker: _Worker, why: str) -> None:
        logger.warning("sandbox worker %s %s: replacing it", worker.process.pid, why)
        self._all.discard(worker)
        self.replaced += 1
        await worker.kill()
        if not self._closed:
            self._spawn_later()

    def _spawn_later(self) -> None:
        task = asyncio.get_running_loop().create_task(self._spawn())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _spawn(self) -> None:
        """Start a worker, retrying with a growing delay while it cannot start."""
        delay = 0.5
        while not self._closed:
            worker = None
            try:
                worker = await self._launch()
                ready = await asyncio.wait_for(
                    read_frame(self._stdout(worker)), self.config.start_timeout
                )
                if not ready.get("ready"):
                    raise ConnectionError(f"unexpected first frame {ready!r}")
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                logger.error("sandbox worker failed to start: %r", exc)
                if worker is not None:
                    await worker.kill()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if self._closed:
                await worker.kill()
                return
            self._all.add(worker)
            self._ready_once = True
            self._idle.put_nowait(worker)
            return

    async def _launch(self) -> _Worker:
        env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lms.assessments.sandbox.worker",
            str(self.config.cache_dir),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(ROOT),
        )
        return _Worker(process)

    @staticmethod
    def _stdout(worker: _Worker) -> asyncio.StreamReader:
        assert worker.process.stdout is not None
        return worker.process.stdout
