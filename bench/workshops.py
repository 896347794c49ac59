"""Workshops benchmark (issue 20): the seat race, 200 learners registering at once for a
workshop of 30 seats on PostgreSQL, through the real node over HTTP.

Each round schedules a fresh workshop (capacity 30) and fires the 200 registrations at
once from 200 signed-in students (one request each, all in flight together). Reported per
round and overall: registrations per second (200 / the round's wall time), the p50 and
p99 request latency, and the check that exactly 30 were seated and the rest waitlisted in
arrival order. Baseline in the same run, on the same database: a bare INSERT of the same
200 rows (a copy of ``workshop_registrations``), each its own transaction, over as many
connections as the node's pool, with no HTTP, no authentication and no row lock; the
ratio is what the race-safe registration costs over the database's own floor.

    flock /tmp/liveclass-bench.lock python bench/workshops.py            # 5 rounds
    flock /tmp/liveclass-bench.lock python bench/workshops.py --rounds 1 # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import benchpath  # noqa: F401  (the tree and its kits on sys.path)
import httpx

from jobs.listener import asyncpg_dsn
from kits.bench import BenchNode, bearer, percentile, progress
from kits.servers import start_postgres

LEARNERS = 200
SEATS = 30
POOL = 10  # the node's default database pool (persistence.engine.create_engine)


async def race(node: BenchNode, http: httpx.AsyncClient) -> dict[str, Any]:
    """One round: a fresh workshop, then 200 registrations at once on fresh connections
    (kept-alive ones may have been closed by the server while the baseline ran)."""
    body = {
        "title": f"Race {uuid.uuid4().hex[:6]}",
        "time_zone": "Europe/Berlin",
        "start": "2035-01-08T18:00:00",
        "duration_minutes": 60,
        "capacity": SEATS,
        "waitlist_capacity": LEARNERS,
    }
    made = await http.post("/api/v1/workshops", json=body, headers=bearer(node.admin_token))
    made.raise_for_status()
    path = f"/api/v1/workshops/{made.json()['id']}/registrations"
    gate = asyncio.Event()
    latencies: list[float] = []

    async def one(token: str) -> dict[str, Any]:
        await gate.wait()
        began = time.perf_counter()
        answer = await http.post(path, headers=bearer(token))
        latencies.append(time.perf_counter() - began)
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    limits = httpx.Limits(max_connections=LEARNERS)
    async with httpx.AsyncClient(base_url=node.url, timeout=120, limits=limits) as racers:
        http = racers
        tasks = [asyncio.create_task(one(t)) for t in node.students[:LEARNERS]]
        await asyncio.sleep(0)
        started = time.perf_counter()
        gate.set()
        results = await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    seated = sorted(r["arrival"] for r in results if r["status"] == "registered")
    waiting = sorted(
        (r["arrival"], r["waitlist_position"]) for r in results if r["status"] == "waitlisted"
    )
    exact = (
        seated == list(range(1, SEATS + 1))
        and all(p == a - SEATS for a, p in waiting)
        and len(waiting) == LEARNERS - SEATS
    )
    return {
        "registrations_per_second": round(LEARNERS / wall, 1),
        "p50_ms": percentile(latencies, 0.50, scale=0.001),
        "p99_ms": percentile(latencies, 0.99, scale=0.001),
        "exactly_30_seated_rest_in_arrival_order": exact,
    }


async def bare_inserts(url: str) -> dict[str, Any]:
    """The baseline: 200 single-row INSERT transactions of registration rows."""
    dsn = asyncpg_dsn(url)
    setup = await asyncpg.connect(dsn)
    await setup.execute("DROP TABLE IF EXISTS bare_registrations")
    await setup.execute(
        "CREATE TABLE bare_registrations (LIKE workshop_registrations INCLUDING ALL)"
    )
    users = [r["id"] for r in await setup.fetch("SELECT id FROM users LIMIT $1", LEARNERS)]
    await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=POOL, max_size=POOL)
    workshop = uuid.uuid4()
    latencies: list[float] = []

    async def one(arrival: int, user: uuid.UUID) -> None:
        began = time.perf_counter()
        async with pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO bare_registrations (id, workshop_id, user_id, status, arrival,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, now(), now())",
                uuid.uuid4(),
                workshop,
                user,
                "registered" if arrival <= SEATS else "waitlisted",
                arrival,
            )
        latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(one(i + 1, u) for i, u in enumerate(users)))
    wall = time.perf_counter() - started
    await pool.close()
    return {
        "rows": len(users),
        "rows_per_second": round(len(users) / wall, 1),
        "p50_ms": percentile(latencies, 0.50, scale=0.001),
        "p99_ms": percentile(latencies, 0.99, scale=0.001),
    }


async def main(rounds: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "learners": LEARNERS,
        "seats": SEATS,
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    server = start_postgres()
    url = server.create_database()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-workshops-") as tmp:
            node = BenchNode(Path(tmp) / "data", {"LIVECLASS_DATABASE_URL": url}).start()
            try:
                limits = httpx.Limits(max_connections=LEARNERS + 10)
                async with httpx.AsyncClient(base_url=node.url, timeout=120, limits=limits) as http:
                    progress(f"signing in {LEARNERS} students")
                    await node.sign_in(http, LEARNERS, register=True)
                    runs = []
                    for i in range(rounds):
                        progress(f"round {i + 1}: {LEARNERS} registrations for {SEATS} seats")
                        runs.append(await race(node, http))
                        progress("baseline: bare inserts of the same rows")
                        runs[-1]["baseline"] = await bare_inserts(url)
                result["runs"] = runs
                ours = [r["registrations_per_second"] for r in runs]
                bare = [r["baseline"]["rows_per_second"] for r in runs]
                result["registrations_per_second_median"] = sorted(ours)[len(ours) // 2]
                result["p99_ms_median"] = sorted(r["p99_ms"] for r in runs)[len(runs) // 2]
                result["bare_insert_rows_per_second_median"] = sorted(bare)[len(bare) // 2]
                result["ratio_to_bare_insert"] = round(
                    result["registrations_per_second_median"]
                    / result["bare_insert_rows_per_second_median"],
                    3,
                )
                result["all_rounds_exact"] = all(
                    r["exactly_30_seated_rest_in_arrival_order"] for r in runs
                )
                result["node_errors"] = node.log_errors()[:5]
            finally:
                node.stop()
    finally:
        server.drop_database(url)
        server.stop()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rounds)), indent=2))
