"""Jobs benchmark (issue 17): no-op jobs enqueued and completed per second, and the latency
from an enqueueing commit to its handler starting.

Measured in one run, so the figures are ratios on a shared machine:

* **sqlite, in process**: the embedded default, one jobs runtime in this process;
* **postgres, 1/2/4 `liveclass worker` processes** (concurrency 8 each), woken by NOTIFY;
* **procrastinate** (baseline, PyPI) with the same no-op task and the same 1/2/4 worker
  processes (concurrency 8, LISTEN/NOTIFY, succeeded jobs deleted like ours);
* **bare insert+delete** (ceiling): one asyncpg connection inserting a row and deleting it,
  each its own transaction, as fast as it can; and the same over four connections.

Throughput: N jobs enqueued from this process in transactions of 100 while the workers run,
divided by the time until the queue is empty. Latency: one job per transaction, one at a
time, the commit's wall-clock time against the time the handler started (``bench.stamp``
records it), p50/p99 in ms; in process on SQLite and on PostgreSQL, and across processes.

    flock /tmp/liveclass-bench.lock python bench/jobs.py           # ~4 minutes
    flock /tmp/liveclass-bench.lock python bench/jobs.py --quick   # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import benchpath  # noqa: F401  (the kits: tests/kits)
import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.events import Catalogue
from jobs.listener import asyncpg_dsn
from jobs.queue import enqueue
from jobs.runtime import JobRuntime
from jobs.types import JobRegistry
from jobs.worker import WorkerConfig
from kits import jobs as jobkit
from kits.bench import WORKER_COMMAND, percentile, progress, spawn_ready
from kits.servers import ROOT, PostgresServer, start_postgres
from kits.waiting import eventually
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker
from persistence.models import Job

CONCURRENCY = 8
BATCH = 100


# ------------------------------------------------------------------ ours


def reader(engine: AsyncEngine) -> Any:
    """Sessions that read without the write lock (SQLite: a read-only engine)."""
    if engine.dialect.name != "sqlite":
        return create_sessionmaker(engine)
    url = engine.url.render_as_string(hide_password=False)
    return create_sessionmaker(create_engine(url, pool_size=2, read_only=True), read_only=True)


async def throughput(engine: AsyncEngine, n: int) -> float:
    """Enqueue ``n`` no-op jobs in transactions of BATCH; jobs/s until the queue is empty."""
    sessions = create_sessionmaker(engine)
    reads = reader(engine)
    started = time.perf_counter()
    for first in range(0, n, BATCH):
        async with sessions() as session:
            for _ in range(min(BATCH, n - first)):
                await enqueue(session, jobkit.NOOP)
            await session.commit()

    async def empty() -> bool:
        async with reads() as session:
            return (await session.scalar(select(func.count()).select_from(Job))) == 0

    await eventually(empty, "the queue to drain", within=600, interval=0.005)
    return round(n / (time.perf_counter() - started), 1)


async def latency(engine: AsyncEngine, n: int, started: Callable[[str], Any]) -> dict[str, Any]:
    """Commit ``n`` stamp jobs one at a time; commit-to-handler-start p50/p99 (ms)."""
    sessions = create_sessionmaker(engine)
    lags = []
    for i in range(n):
        key = f"lat-{i}-{time.monotonic_ns()}"
        async with sessions() as session:
            await enqueue(session, jobkit.STAMP, {"key": key})
            await session.commit()
        committed = time.time()
        holder: list[float] = []

        async def seen(key: str = key, holder: list[float] = holder) -> bool:
            value = await started(key)
            if value is not None:
                holder.append(value)
            return value is not None

        await eventually(seen, "the job to start", interval=0.005)
        lags.append((holder[0] - committed) * 1000)
    return {"n": n, "p50_ms": percentile(lags, 0.5), "p99_ms": percentile(lags, 0.99)}


def stamp_reader(engine: AsyncEngine) -> Callable[[str], Any]:
    """Reads a stamp job's handler start time from ``bench_stamps``."""
    sessions = reader(engine)

    async def read(key: str) -> float | None:
        async with sessions() as session:
            value = await session.scalar(
                text("SELECT started FROM bench_stamps WHERE key = :k"), {"k": key}
            )
            await session.rollback()
            return None if value is None else float(value)

    return read


async def in_process(url: str, n: int, lat: int) -> dict[str, Any]:
    """Throughput and latency with a jobs runtime in this process."""
    engine = create_engine(url, pool_size=CONCURRENCY + 4)
    await migrate.upgrade(engine)
    await jobkit.create_tables(engine)
    registry = JobRegistry([jobkit.NOOP, jobkit.STAMP])
    runtime = JobRuntime(
        engine=engine,
        sessions=create_sessionmaker(engine),
        registry=registry,
        catalogue=Catalogue(),
        config=WorkerConfig(concurrency=CONCURRENCY, lease=30, poll=5, node_id="bench"),
        read_sessions=reader(engine),
    )
    await runtime.start()
    try:
        result = {"jobs_per_second": await throughput(engine, n)}
        result["latency"] = await latency(engine, lat, stamp_reader(engine))
    finally:
        await runtime.stop()
        await engine.dispose()
    return result


def start_workers(url: str, count: int, tmp: Path) -> list[subprocess.Popen[bytes]]:
    """``count`` `liveclass worker` processes, each up (its "started" line) on return."""
    env = {
        **os.environ,
        "LIVECLASS_DATABASE_URL": url,
        "LIVECLASS_DATA_DIR": str(tmp / "data"),
        "LIVECLASS_SECRET_KEY": "b" * 48,
        "LIVECLASS_JOBS_MODULES": "kits.jobs",
        "LIVECLASS_JOBS_CONCURRENCY": str(CONCURRENCY),
        "LIVECLASS_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    return spawn_ready(WORKER_COMMAND, env, count, tmp)


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every worker, then wait (SIGKILL if one lingers)."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


async def across_processes(
    server: PostgresServer, workers: int, n: int, lat: int, tmp: Path
) -> dict[str, Any]:
    """Throughput (and with one worker, latency) with `liveclass worker` processes."""
    url = server.create_database()
    engine = create_engine(url, pool_size=4)
    await migrate.upgrade(engine)
    await jobkit.create_tables(engine)
    processes = start_workers(url, workers, tmp)
    try:
        result: dict[str, Any] = {"jobs_per_second": await throughput(engine, n)}
        if lat:
            result["latency"] = await latency(engine, lat, stamp_reader(engine))
    finally:
        stop_workers(processes)
        await engine.dispose()
        server.drop_database(url)
    return result


# ------------------------------------------------------------------ baselines


def procrastinate_app(dsn: str) -> Any:
    """A procrastinate app with the no-op task."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app


def procrastinate_worker(dsn: str) -> None:
    """A procrastinate worker process (run by the benchmark as a subcommand)."""

    async def run() -> None:
        app = procrastinate_app(dsn)
        async with app.open_async():
            print("procrastinate worker started", flush=True)
            await app.run_worker_async(concurrency=CONCURRENCY, delete_jobs="successful")

    asyncio.run(run())


async def procrastinate_throughput(
    server: PostgresServer, workers: int, n: int, tmp: Path
) -> float:
    """The same no-op jobs through procrastinate with ``workers`` processes."""
    dsn = asyncpg_dsn(server.create_database())
    app = procrastinate_app(dsn)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        command = [sys.executable, str(Path(__file__)), "--procrastinate-worker", dsn]
        processes = spawn_ready(command, os.environ, workers, tmp)
        connection = await asyncpg.connect(dsn)
        try:
            task = app.tasks["noop"]
            started = time.perf_counter()
            for first in range(0, n, BATCH):
                await task.batch_defer_async(*({} for _ in range(min(BATCH, n - first))))

            async def empty() -> bool:
                count = await connection.fetchval("SELECT count(*) FROM procrastinate_jobs")
                return int(count) == 0

            await eventually(empty, "the queue to drain", within=600, interval=0.005)
            rate = round(n / (time.perf_counter() - started), 1)
        finally:
            await connection.close()
            stop_workers(processes)
    server.drop_database(f"postgresql+asyncpg://{dsn.split('://', 1)[1]}")
    return rate


async def insert_delete(server: PostgresServer, n: int, connections: int) -> float:
    """The ceiling: insert a row and delete it, each its own transaction, per second."""
    url = server.create_database()
    dsn = asyncpg_dsn(url)
    setup = await asyncpg.connect(dsn)
    await setup.execute("CREATE TABLE bare (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")
    await setup.close()
    pool = [await asyncpg.connect(dsn) for _ in range(connections)]

    async def loop(connection: Any, count: int) -> None:
        for _ in range(count):
            row = await connection.fetchval("INSERT INTO bare (payload) VALUES ('{}') RETURNING id")
            await connection.execute("DELETE FROM bare WHERE id = $1", row)

    started = time.perf_counter()
    await asyncio.gather(*(loop(c, n // connections) for c in pool))
    rate = round(n / (time.perf_counter() - started), 1)
    for connection in pool:
        await connection.close()
    server.drop_database(url)
    return rate


# ------------------------------------------------------------------ the run


async def main(quick: bool) -> dict[str, Any]:
    n = 300 if quick else 3000
    lat = 30 if quick else 300
    counts = (1, 2) if quick else (1, 2, 4)
    result: dict[str, Any] = {
        "jobs": n,
        "concurrency_per_process": CONCURRENCY,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp_dir:
        tmp = Path(tmp_dir)
        progress("sqlite in process")
        result["sqlite_in_process"] = await in_process(
            f"sqlite+aiosqlite:///{tmp / 'jobs.db'}", n, lat
        )
        server = start_postgres()
        try:
            progress("postgres in process")
            url = server.create_database()
            result["postgres_in_process"] = await in_process(url, n, lat)
            server.drop_database(url)
            ours: dict[str, Any] = {}
            theirs: dict[str, float] = {}
            for workers in counts:
                progress(f"postgres, {workers} liveclass worker(s)")
                ours[str(workers)] = await across_processes(
                    server, workers, n, lat if workers == 1 else 0, tmp
                )
                progress(f"procrastinate, {workers} worker(s)")
                theirs[str(workers)] = await procrastinate_throughput(server, workers, n, tmp)
            result["postgres_workers"] = ours
            result["procrastinate_workers_jobs_per_second"] = theirs
            result["ratio_to_procrastinate"] = {
                k: round(ours[k]["jobs_per_second"] / theirs[k], 2) for k in ours
            }
            progress("bare insert+delete")
            result["bare_insert_delete_per_second"] = {
                "1_connection": await insert_delete(server, n, 1),
                "4_connections": await insert_delete(server, n, 4),
            }
        finally:
            server.stop()
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--procrastinate-worker":
        procrastinate_worker(sys.argv[2])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    figures = asyncio.run(main(parser.parse_args().quick))
    sys.stdout.write(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode() + "\n")
