"""Payments benchmark (issue 21): 200 buyers race for the 50 seats of a paid workshop, through
the real node over HTTP with the Stripe adapter against the local fake of Stripe's API
(tests/kits/fake_stripe.py), on PostgreSQL (or SQLite with ``--backend sqlite``).

Each round: an admin schedules a workshop of 50 seats and sells its seat (4,900 EUR minor
units); 200 signed-in students POST an order at once (``Idempotency-Key`` each). The node
prices it, holds a seat, and opens a Stripe Checkout Session at the fake. Measured: the
checkout creations per second and the p50/p99 latency of the 200 order requests; the count
of orders that got a checkout (must be 50: nobody else may be sent to pay). Every checkout
is then paid at the fake, and all the Stripe events it produced (``payment_intent.succeeded``,
``charge.succeeded``, ``checkout.session.completed``: three per order) plus 20% duplicates
are shuffled and POSTed to ``/api/v1/payments/webhooks/stripe``, signed with the SDK's helper,
20 at a time: the webhook events processed per second. Then the round waits until the
orders settle and checks that exactly 50 are fulfilled, the workshop has 50 seated, and no
order was charged without a seat (money taken and not fulfilled, or flagged). The buyers and
the webhook senders are raw HTTP/1.1 clients (``kits.rawhttp``, as the exam benchmark's):
httpx spent more CPU per request than the node's own work on the same two cores; the
events are signed before the delivery's clock starts (signing is the provider's work).

Baselines in the same run on the same database (the ceilings): the same 200 order rows
inserted bare (a copy of ``payment_orders`` without its foreign keys), each its own
transaction over the node's pool size, with no HTTP, authentication, pricing, seat
reservation, provider call or state machine; and for the webhooks, each event stored bare
(a copy of ``payment_events``, duplicates dropped by its unique key) and its order row
updated, one transaction each. A second webhook ceiling goes through HTTP: the same signed
events, delivered the same way, to the minimal receiver (``bench/payments_receiver.py``, its
own uvicorn process: the signature checked with the SDK, the bare loop's insert and update),
``ceiling.receiver`` and ``webhook_ratio_to_receiver``. The ratios are ours over the
ceiling (target >= 0.5).

    flock /tmp/liveclass-bench.lock python bench/payments.py                 # 3 rounds, PG
    flock /tmp/liveclass-bench.lock python bench/payments.py --rounds 1      # smoke run
    flock /tmp/liveclass-bench.lock python bench/payments.py --backend sqlite
    python bench/payments.py --rounds 1 --root ../other-checkout           # that tree's node
    python bench/payments.py --rounds 1 --profile /tmp/race.txt    # py-spy: race, webhooks
    python bench/payments.py --rounds 1 --worker   # jobs in a `liveclass worker` process

Besides the rates, each round reports the node's CPU (utime + stime from /proc) per order
request during the race (``node_cpu_ms_per_order``), per webhook event during the delivery
(``node_cpu_ms_per_event``, with whatever fulfilment jobs ran meanwhile), the measure that
holds on a shared machine, and per webhook event from the delivery's start until every order
has settled (``node_cpu_ms_per_event_settled``: all the work the events caused, fulfilment,
receipts and outbox, plus the count's own polling every 0.5 s; a faster delivery leaves
more of those jobs after its window, so compare this one between trees), and per webhook
event until the outbox and the jobs are drained (``node_cpu_ms_per_event_drained``: the
same work, receipts included, without the count's polling of the node, which follows; the
database is polled instead). ``--profile
FILE`` records the node with py-spy (raw format) during the first race, and into ``FILE``
with ``.webhooks`` before its suffix during the first delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the tree and its kits on sys.path)
import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kits.bench import (
    WORKER_COMMAND,
    BenchNode,
    bearer,
    percentile,
    progress,
    spawn_ready,
    student_email,
)
from kits.fake_stripe import FakeStripe
from kits.rawhttp import Client, Response
from kits.servers import ROOT, free_port, start_postgres
from kits.stats import cpu_seconds, machine_busy_seconds
from lms.accounts.tokens import mint_access_token
from persistence.engine import create_engine
from persistence.models import User
from persistence.models.base import utcnow

BUYERS = 200
SEATS = 50
PRICE = 4900
DUPLICATES = 0.20
SENDERS = 20  # webhook deliveries in flight at once (Stripe sends several at a time)
POOL = 10  # the node's default database pool (persistence.engine.create_engine)
SECRETS = ("whsec_bench_current", "whsec_bench_previous")
TAKEN = {"paid", "fulfilled", "partially_refunded", "refunded"}
SECRET = "p" * 48  # the node's secret key: the bench mints its students' tokens


async def _gather_limited(jobs: list[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def _product(node: BenchNode, http: httpx.AsyncClient) -> tuple[str, str]:
    admin = bearer(node.admin_token)
    workshop = await http.post(
        "/api/v1/workshops",
        headers=admin,
        json={
            "title": f"Paid race {uuid.uuid4().hex[:6]}",
            "time_zone": "Europe/Berlin",
            "start": "2035-01-08T18:00:00",
            "duration_minutes": 60,
            "capacity": SEATS,
            "waitlist_capacity": 0,
        },
    )
    workshop.raise_for_status()
    workshop_id = workshop.json()["id"]
    product = await http.post(
        "/api/v1/payments/products",
        headers=admin,
        json={
            "kind": "workshop",
            "name": "Seat: paid race",
            "target_id": workshop_id,
            "prices": [{"currency": "EUR", "unit_amount": PRICE}],
        },
    )
    product.raise_for_status()
    return workshop_id, product.json()["id"]


def _profiler(pid: int, out: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy on the node (raw samples into ``out``), or nothing."""
    if out is None:
        return None
    argv = ["py-spy", "record", "-p", str(pid), "-r", "200", "-f", "raw", "-o", str(out)]
    spy = subprocess.Popen([*argv, "--nonblocking"], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return spy


def _sibling(profile: Path | None) -> Path | None:
    """Where the first delivery's profile goes: beside the race's, ``.webhooks`` added."""
    return (
        None if profile is None else profile.with_name(profile.stem + ".webhooks" + profile.suffix)
    )


def _stop_profiler(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)


async def _sample_waits(engine: AsyncEngine, counts: dict[str, int]) -> None:
    """What the database's client backends wait on, sampled every 20 ms (PostgreSQL)."""
    async with engine.connect() as connection:
        while True:
            rows = await connection.execute(
                text(
                    "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'cpu')"
                    " FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid() AND state <> 'idle'"
                )
            )
            for state, wait in rows:
                key = f"{state} {wait}"
                counts[key] = counts.get(key, 0) + 1
            await connection.rollback()
            await asyncio.sleep(0.02)


async def checkout_race(
    node: BenchNode, product_id: str, engine: AsyncEngine, profile: Path | None = None
) -> dict[str, Any]:
    """200 orders at once on fresh connections; which got a checkout, how fast, and the
    node's CPU per order request."""
    gate = asyncio.Event()
    latencies: list[float] = []
    host, port = _address(node.url)
    body = json.dumps({"product_id": product_id, "currency": "EUR"}).encode()

    async def one(token: str) -> Response:
        client = Client(host, port)  # its own connection, opened when the race starts
        try:
            await gate.wait()
            began = time.perf_counter()
            answer = await client.request(
                "POST",
                "/api/v1/payments/orders",
                {
                    **bearer(token),
                    "content-type": "application/json",
                    "idempotency-key": str(uuid.uuid4()),
                },
                body,
            )
            latencies.append(time.perf_counter() - began)
            return answer
        finally:
            await client.close()

    tasks = [asyncio.create_task(one(t)) for t in node.students[:BUYERS]]
    await asyncio.sleep(0)
    spy = _profiler(node.pid, profile)
    waits: dict[str, int] = {}
    sampler = (
        asyncio.create_task(_sample_waits(engine, waits))
        if engine.dialect.name == "postgresql"
        else None
    )
    cpu, mine, busy = cpu_seconds(node.pid), cpu_seconds(), machine_busy_seconds()
    started = time.perf_counter()
    gate.set()
    answers = await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    cpu, mine = cpu_seconds(node.pid) - cpu, cpu_seconds() - mine
    busy = machine_busy_seconds() - busy
    if sampler is not None:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    _stop_profiler(spy)
    created = [a.json() for a in answers if a.status == 201]
    refused = sorted({a.status for a in answers if a.status != 201})
    return {
        "orders": created,
        "summary": {
            "checkouts_per_second": round(BUYERS / wall, 1),
            "p50_ms": percentile(latencies, 0.50, scale=0.001),
            "p99_ms": percentile(latencies, 0.99, scale=0.001),
            "node_cpu_ms_per_order": round(cpu * 1000 / BUYERS, 2),
            "node_cpu_share": round(cpu / wall, 2),
            "bench_cpu_share": round(mine / wall, 2),  # the buyers' client and the fake
            "machine_busy_cores": round(busy / wall, 2),
            "database_waits": dict(sorted(waits.items(), key=lambda kv: -kv[1])[:8]),
            "checkouts_opened": sum(1 for o in created if o.get("checkout_url")),
            "refused_statuses": refused,
            "server_errors": sum(1 for a in answers if a.status >= 500),
        },
    }


def _address(url: str) -> tuple[str, int]:
    parsed = httpx.URL(url)
    return parsed.host, parsed.port or 80


def stripe_events(fake: FakeStripe, session_ids: list[str]) -> list[dict[str, Any]]:
    """Pay every checkout at the fake; the events that produced, 20% sent twice, shuffled."""
    before = len(fake.events)
    for session_id in session_ids:
        fake.pay(session_id)
    events = list(fake.events[before:])
    rng = random.Random(21)
    events += rng.sample(events, round(len(events) * DUPLICATES))
    rng.shuffle(events)
    return events


async def deliver(
    url: str,
    pid: int,
    fake: FakeStripe,
    events: list[dict[str, Any]],
    profile: Path | None = None,
    worker: int | None = None,
) -> dict[str, Any]:
    """POST the events signed, ``SENDERS`` at a time, to the server at ``url`` (process
    ``pid``: the node, or the ceiling's receiver); its rate and CPU per event."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    host, port = _address(url)
    # Signed before the clock starts: signing is the provider's work, not this machine's.
    signed = [fake.signed(event, SECRETS[0]) for event in events]
    queue = iter(signed)

    async def sender() -> None:
        client = Client(host, port)
        try:
            for body, headers in queue:
                began = time.perf_counter()
                answer = await client.request(
                    "POST", "/api/v1/payments/webhooks/stripe", headers, body
                )
                latencies.append(time.perf_counter() - began)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
        finally:
            await client.close()

    spy = _profiler(pid, profile)
    cpu, started = cpu_seconds(pid), time.perf_counter()
    cpu_at_start = cpu
    worker_at_start = cpu_seconds(worker) if worker else 0.0
    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    _stop_profiler(spy)
    return {
        "events": len(events),
        "events_per_second": round(len(events) / wall, 1),
        # with the fulfilment jobs the node runs meanwhile (the shared machine's measure)
        "node_cpu_ms_per_event": round(cpu * 1000 / len(events), 2),
        "node_cpu_at_start": cpu_at_start,
        "worker_cpu_at_start": worker_at_start,
        "p50_ms": percentile(latencies, 0.50, scale=0.001),
        "p99_ms": percentile(latencies, 0.99, scale=0.001),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def drain(engine: AsyncEngine) -> float:
    """Wait (up to 2 minutes) until the outbox is dispatched and no job is due or running
    (the fulfilment, the receipts), polling the database, not the node; the seconds
    waited."""
    began, deadline = time.perf_counter(), time.monotonic() + 120
    busy = text(
        "SELECT (SELECT count(*) FROM domain_events WHERE dispatched_at IS NULL)"
        " + (SELECT count(*) FROM jobs WHERE state = 'running'"
        " OR (state = 'queued' AND run_at <= :now))"
    )
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            if not (await connection.execute(busy, {"now": _now()})).scalar_one():
                break
        await asyncio.sleep(0.05)
    return time.perf_counter() - began


async def settle(
    node: BenchNode, http: httpx.AsyncClient, order_ids: set[str], workshop_id: str
) -> dict[str, Any]:
    """Wait (up to 2 minutes) until this round's orders stop moving; count them."""
    admin = bearer(node.admin_token)
    deadline = time.monotonic() + 120
    while True:
        mine: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await http.get("/api/v1/payments/finance/orders", params=params, headers=admin)
            page.raise_for_status()
            found = page.json()
            mine += [o for o in found["items"] if o["id"] in order_ids]
            cursor = found["next"]
            if not cursor:
                break
        fulfilled = sum(1 for o in mine if o["status"] == "fulfilled")
        if fulfilled >= len(order_ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    workshop = await http.get(f"/api/v1/workshops/{workshop_id}", headers=admin)
    workshop.raise_for_status()
    seated = SEATS - int(workshop.json()["seats_left"])
    charged_without_seat = sum(
        1 for o in mine if o["status"] in TAKEN and (o["status"] != "fulfilled" or o["flag"])
    )
    return {
        "fulfilled": fulfilled,
        "seated": seated,
        "charged_without_seat": charged_without_seat,
        "statuses": sorted({o["status"] for o in mine}),
    }


async def _students(node: BenchNode, url: str) -> list[uuid.UUID]:
    """``BUYERS`` students: the first registers through the API, the others are copies of its
    row (argon2 for 200 sign-ups takes minutes on a loaded machine and is not what is
    measured), with access tokens minted as the node mints them (bench/assessments.py)."""
    node.student(0)
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            first = (await db.execute(select(User).where(User.email == student_email(0)))).one()
            rows = [
                {
                    "id": uuid.uuid4(),
                    "email": student_email(i),
                    "name": f"Student {i}",
                    "password_hash": first.password_hash,
                    "role": "student",
                }
                for i in range(1, BUYERS)
            ]
            await db.execute(insert(User), rows)
    finally:
        await engine.dispose()
    ids = [first.id] + [r["id"] for r in rows]
    now = utcnow()
    node.students = [
        mint_access_token(secret=SECRET, user_id=i, version=0, now=now, ttl=timedelta(hours=2))
        for i in ids
    ]
    return ids


# ------------------------------------------------------------------ the ceilings


async def bare_orders(
    engine: AsyncEngine, users: list[uuid.UUID], product_id: str
) -> dict[str, Any]:
    """200 single-row INSERT transactions of order rows, no checks, no provider."""
    latencies: list[float] = []
    # Ids as the database keeps them (SQLite: 32 hex digits, as SQLAlchemy's Uuid stores).
    ident: Callable[[uuid.UUID], object] = (
        (lambda u: u) if engine.dialect.name == "postgresql" else (lambda u: u.hex)
    )

    async def one(user: uuid.UUID) -> None:
        began = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO bare_payment_orders (id, user_id, buyer, product_id,"
                    " product_name, currency, subtotal, discount, total, status,"
                    " refunded_amount, created_at, updated_at) VALUES (:id, :user, :buyer,"
                    " :product, 'Seat: paid race', 'EUR', :price, 0, :price, 'pending', 0,"
                    " :now, :now)"
                ),
                {
                    "id": ident(uuid.uuid4()),
                    "user": ident(user),
                    "buyer": uuid.uuid4().hex,
                    "product": ident(uuid.UUID(product_id)),
                    "price": PRICE,
                    "now": _now(),
                },
            )
        latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await _gather_limited([lambda u=u: one(u) for u in users], POOL)  # type: ignore[misc]
    wall = time.perf_counter() - started
    return {
        "rows": len(users),
        "rows_per_second": round(len(users) / wall, 1),
        "p99_ms": percentile(latencies, 0.99, scale=0.001),
    }


async def bare_webhooks(engine: AsyncEngine, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Each event stored raw (duplicates dropped by the unique key) and its order row
    updated, one transaction each, no signature check, no state machine, no fulfilment."""
    async with engine.begin() as connection:
        rows = (await connection.execute(text("SELECT id FROM bare_payment_orders"))).all()
    order_ids = [r[0] for r in rows]

    async def one(index: int, event: dict[str, Any]) -> None:
        async with engine.begin() as connection:
            stored = await connection.execute(
                text(
                    "INSERT INTO bare_payment_events (provider, event_id, type, raw_type,"
                    " order_id, body, received_at) VALUES ('stripe', :event_id, 'other',"
                    " :raw_type, :order_id, :body, :now) ON CONFLICT DO NOTHING"
                ),
                {
                    "event_id": event["id"],
                    "raw_type": event["type"],
                    "order_id": order_ids[index % len(order_ids)],
                    "body": json.dumps(event),
                    "now": _now(),
                },
            )
            if stored.rowcount:
                await connection.execute(
                    text("UPDATE bare_payment_orders SET status = 'paid' WHERE id = :id"),
                    {"id": order_ids[index % len(order_ids)]},
                )

    started = time.perf_counter()
    await _gather_limited(
        [lambda i=i, e=e: one(i, e) for i, e in enumerate(events)],  # type: ignore[misc]
        SENDERS,
    )
    wall = time.perf_counter() - started
    return {"events": len(events), "events_per_second": round(len(events) / wall, 1)}


async def receiver_ceiling(
    engine: AsyncEngine, db_url: str, fake: FakeStripe, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """The same events delivered the same way to the minimal receiver (its own process on
    the same database, into emptied bare event rows): the ceiling of any webhook endpoint
    on this stack, signature and HTTP included."""
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM bare_payment_events"))
    port = free_port()
    command = [sys.executable, str(Path(__file__).with_name("payments_receiver.py"))]
    command += ["--port", str(port), "--database-url", db_url, "--pool", str(POOL)]
    for secret in SECRETS:
        command += ["--secret", secret]
    process = await asyncio.create_subprocess_exec(*command)
    try:
        await _wait_for_port(port, process)
        got = await deliver(f"http://127.0.0.1:{port}", process.pid, fake, events)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
    for started_at in ("node_cpu_at_start", "worker_cpu_at_start"):
        got.pop(started_at, None)
    return got


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the receiver exited ({process.returncode})")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the receiver did not start")


def _now() -> datetime:
    return datetime.now(UTC)


async def prepare_ceilings(engine: AsyncEngine, postgres: bool) -> None:
    async with engine.begin() as connection:
        for table in ("bare_payment_orders", "bare_payment_events"):
            await connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        if postgres:
            await connection.execute(
                text("CREATE TABLE bare_payment_orders (LIKE payment_orders INCLUDING ALL)")
            )
            await connection.execute(
                text("CREATE TABLE bare_payment_events (LIKE payment_events INCLUDING ALL)")
            )
        else:  # SQLite: the same columns and the event table's unique key, no foreign keys
            for table, source in (
                ("bare_payment_orders", "payment_orders"),
                ("bare_payment_events", "payment_events"),
            ):
                await connection.execute(
                    text(f"CREATE TABLE {table} AS SELECT * FROM {source} WHERE 0")  # noqa: S608
                )
            await connection.execute(
                text(
                    "CREATE UNIQUE INDEX bare_events_key"
                    " ON bare_payment_events (provider, event_id)"
                )
            )


# ------------------------------------------------------------------ a run


async def rounds(
    node: BenchNode,
    fake: FakeStripe,
    db_url: str,
    count: int,
    profile: Path | None = None,
    worker: int | None = None,
) -> list[dict[str, Any]]:
    postgres = db_url.startswith("postgresql")
    engine = (
        create_async_engine(db_url, pool_size=POOL, max_overflow=0)
        if postgres
        else (create_async_engine(db_url, connect_args={"timeout": 60}))
    )
    limits = httpx.Limits(max_connections=BUYERS + 10)
    results = []
    try:
        async with httpx.AsyncClient(base_url=node.url, timeout=120, limits=limits) as http:
            progress(f"{BUYERS} students (copied rows, minted tokens)")
            users = await _students(node, db_url)
            for i in range(count):
                workshop_id, product_id = await _product(node, http)
                progress(f"round {i + 1}: {BUYERS} buyers for {SEATS} seats")
                race = await checkout_race(node, product_id, engine, profile if i == 0 else None)
                orders = race["orders"]
                sessions = [
                    o["checkout_url"].rsplit("/", 1)[-1] for o in orders if o.get("checkout_url")
                ]
                events = stripe_events(fake, sessions)
                progress(f"round {i + 1}: {len(events)} webhook events, 20% duplicated, shuffled")
                hooks = await deliver(
                    node.url, node.pid, fake, events, _sibling(profile) if i == 0 else None, worker
                )
                hooks["drained_after_s"] = round(await drain(engine), 2)
                drained_cpu = cpu_seconds(node.pid) - hooks["node_cpu_at_start"]
                hooks["node_cpu_ms_per_event_drained"] = round(drained_cpu * 1000 / len(events), 2)
                worker_cpu = cpu_seconds(worker) - hooks["worker_cpu_at_start"] if worker else 0
                if worker:  # the jobs' share, in the worker process
                    hooks["worker_cpu_ms_per_event_drained"] = round(
                        worker_cpu * 1000 / len(events), 2
                    )
                del hooks["worker_cpu_at_start"]
                counted = await settle(node, http, {o["id"] for o in orders}, workshop_id)
                settled_cpu = cpu_seconds(node.pid) - hooks.pop("node_cpu_at_start")
                hooks["node_cpu_ms_per_event_settled"] = round(settled_cpu * 1000 / len(events), 2)
                progress("ceilings: bare order inserts and bare event stores")
                await prepare_ceilings(engine, postgres)
                ceiling_orders = await bare_orders(engine, users, product_id)
                ceiling_hooks = await bare_webhooks(engine, events)
                progress("ceiling: the minimal webhook receiver (bench/payments_receiver.py)")
                receiver = await receiver_ceiling(engine, db_url, fake, events)
                summary = race["summary"]
                results.append(
                    {
                        "checkout": summary,
                        "webhooks": hooks,
                        "outcome": counted,
                        "exact": (
                            summary["checkouts_opened"] == SEATS
                            and counted["fulfilled"] == SEATS
                            and counted["seated"] == SEATS
                            and counted["charged_without_seat"] == 0
                            and summary["server_errors"] == 0
                        ),
                        "ceiling": {
                            "orders": ceiling_orders,
                            "webhooks": ceiling_hooks,
                            "receiver": receiver,
                        },
                        "checkout_ratio": round(
                            summary["checkouts_per_second"] / ceiling_orders["rows_per_second"], 3
                        ),
                        "webhook_ratio": round(
                            hooks["events_per_second"] / ceiling_hooks["events_per_second"], 3
                        ),
                        "webhook_ratio_to_receiver": round(
                            hooks["events_per_second"] / receiver["events_per_second"], 3
                        ),
                    }
                )
    finally:
        await engine.dispose()
    return results


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": runs,
        "checkouts_per_second_median": _median(
            [r["checkout"]["checkouts_per_second"] for r in runs]
        ),
        "checkout_p99_ms_median": _median([r["checkout"]["p99_ms"] for r in runs]),
        "node_cpu_ms_per_order_median": _median(
            [r["checkout"]["node_cpu_ms_per_order"] for r in runs]
        ),
        "webhook_events_per_second_median": _median(
            [r["webhooks"]["events_per_second"] for r in runs]
        ),
        "node_cpu_ms_per_webhook_event_median": _median(
            [r["webhooks"]["node_cpu_ms_per_event"] for r in runs]
        ),
        "node_cpu_ms_per_webhook_event_settled_median": _median(
            [r["webhooks"]["node_cpu_ms_per_event_settled"] for r in runs]
        ),
        "node_cpu_ms_per_webhook_event_drained_median": _median(
            [r["webhooks"]["node_cpu_ms_per_event_drained"] for r in runs]
        ),
        "worker_cpu_ms_per_webhook_event_drained_median": _median(
            [r["webhooks"].get("worker_cpu_ms_per_event_drained", 0.0) for r in runs]
        ),
        "checkout_ratio_to_ceiling_median": _median([r["checkout_ratio"] for r in runs]),
        "webhook_ratio_to_ceiling_median": _median([r["webhook_ratio"] for r in runs]),
        "receiver_events_per_second_median": _median(
            [r["ceiling"]["receiver"]["events_per_second"] for r in runs]
        ),
        "receiver_cpu_ms_per_event_median": _median(
            [r["ceiling"]["receiver"]["node_cpu_ms_per_event"] for r in runs]
        ),
        "webhook_ratio_to_receiver_median": _median([r["webhook_ratio_to_receiver"] for r in runs]),
        "all_rounds_exact": all(r["exact"] for r in runs),
    }


def _commit(root: Path) -> str:
    got = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return got.stdout.strip()


def _start_worker(root: Path, env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    """``liveclass worker`` of the tree at ``root`` on the node's database and settings,
    past its start-up on return."""
    full = {**os.environ, **env, "LIVECLASS_DATA_DIR": str(data_dir), "PYTHONPATH": str(root)}
    return spawn_ready(WORKER_COMMAND, full, 1, data_dir.parent, cwd=root)[0]


async def main(
    count: int,
    backend: str,
    root: Path = ROOT,
    profile: Path | None = None,
    worker: bool = False,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "backend": backend,
        "tree": str(root),
        "commit": _commit(root),
        "buyers": BUYERS,
        "seats": SEATS,
        "duplicated": DUPLICATES,
        "rounds": count,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "jobs": "a liveclass worker process" if worker else "in the node",
    }
    server = start_postgres() if backend == "postgres" else None
    fake = FakeStripe().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-payments-") as tmp:
            url = (
                server.create_database()
                if server is not None
                else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            )
            env = {
                "LIVECLASS_DATABASE_URL": url,
                "LIVECLASS_SECRET_KEY": SECRET,
                "LIVECLASS_PAYMENTS_PROVIDER": "stripe",
                "LIVECLASS_STRIPE_API_KEY": fake.api_key,
                "LIVECLASS_STRIPE_WEBHOOK_SECRETS": ",".join(SECRETS),
                "LIVECLASS_STRIPE_API_BASE": fake.url,
            }
            if worker:
                env["LIVECLASS_JOBS_EMBEDDED"] = "false"
            node = BenchNode(Path(tmp) / "data", env, root=root)
            helper: subprocess.Popen[bytes] | None = None
            try:
                node.start(timeout=300)  # a loaded machine starts a node slowly
                if worker:
                    helper = _start_worker(root, env, Path(tmp) / "data")
                pid = helper.pid if helper is not None else None
                result.update(summarise(await rounds(node, fake, url, count, profile, pid)))
                result["node_errors"] = node.log_errors()[:5]
                if result["node_errors"]:  # keep the whole log for the tracebacks
                    kept = Path(tempfile.gettempdir()) / "bench-payments-node.log"
                    kept.write_text(node.server.log())
                    result["node_log"] = str(kept)
            finally:
                if helper is not None:
                    helper.terminate()
                    helper.wait(60)
                node.stop()
    finally:
        fake.stop()
        if server is not None:
            server.stop()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="liveclass tree to run (default: this one)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the node in the first round's race (raw; FILE.webhooks: its delivery)",
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="run the jobs in a `liveclass worker` process, not in the node (PostgreSQL)",
    )
    args = parser.parse_args()
    if args.worker and args.backend != "postgres":
        parser.error("--worker needs PostgreSQL (workers share jobs through it)")
    result = asyncio.run(
        main(args.rounds, args.backend, args.root.resolve(), args.profile, args.worker)
    )
    print(json.dumps(result, indent=2))
