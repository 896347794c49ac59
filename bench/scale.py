"""Scale-out benchmark (issue 7): the room fan-out workload spread over 1, 2 and 3 nodes.

One Redis and one PostgreSQL are started for the run, and three liveclass nodes on them (a
run over N nodes uses the first N). For each node count and each client count, a fresh room
gets ``clients`` connections spread evenly over the nodes, and host connections on node 1
send ``chat.send`` at ``--rate`` messages/s in all. Measured per run:

* Redis commands per room event: the INFO commandstats delta over the window divided by the
  chat events published in it (commands run inside the publish script count too), at two
  client counts: it must not grow with the number of clients;
* delivery latency (send to receipt, p50/p99) for receivers on the sender's node and on the
  other nodes; the cross-node cost is the other nodes' p50 minus the single-node p50;
* throughput per node: deliveries/s to its clients and its CPU seconds.

The machine is shared: the CPU of the whole machine, of our processes and of the rest (other
people's work, PostgreSQL) is recorded for every window. The clients are plain `websockets`
connections in this process; every chat text carries its send time (CLOCK_MONOTONIC). Prints
one JSON object; progress goes to stderr. Method and figures: ``docs/benchmarks.md``.

    flock /tmp/liveclass-bench.lock python bench/scale.py          # ~4 minutes
    flock /tmp/liveclass-bench.lock python bench/scale.py --quick  # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the kits: tests/kits)
import orjson
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kits.bench import BenchNode, percentile, progress
from kits.redis_server import RedisServer
from kits.servers import PostgresServer, start_postgres
from kits.stats import cpu_seconds_or_zero as cpu_seconds
from kits.stats import machine_busy_seconds

PER_SENDER_RATE = 4.0
"""Messages/s per host connection: under the room channel's chat limit (5/s, burst 10)."""
TS = re.compile(rb'"text":"ts:(\d+)')


@dataclass
class Receiver:
    """One connection; records the latency (ns) of every timed chat message it receives."""

    node: int
    ws: ClientConnection
    window: list[int] = field(default_factory=lambda: [0, 0])
    latencies: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                now = time.monotonic_ns()
                data = frame.encode() if isinstance(frame, str) else frame
                t0, t1 = self.window
                for found in TS.finditer(data):
                    sent = int(found.group(1))
                    if t0 <= sent < t1:
                        self.latencies.append(now - sent)
        except ConnectionClosed:
            pass


@dataclass
class Cluster:
    """Redis, PostgreSQL and three nodes, plus the accounts the workload uses."""

    work: Path
    redis: RedisServer
    postgres: PostgresServer
    database: str
    nodes: list[BenchNode]
    """The first node's admin opens the rooms; every node shares its database."""
    student_tokens: list[str] = field(default_factory=list)

    def pids(self) -> dict[str, int]:
        found = {f"node{i + 1}": n.pid for i, n in enumerate(self.nodes) if n.server.process}
        if self.redis.process is not None:
            found["redis"] = self.redis.process.pid
        return found


def start_cluster(work: Path) -> Cluster:
    progress("starting Redis, PostgreSQL and three nodes")
    redis = RedisServer().start()
    postgres = start_postgres()
    database = postgres.create_database()
    env = {
        "LIVECLASS_DATABASE_URL": database,
        "LIVECLASS_REDIS_URL": redis.url,
        "LIVECLASS_SECRET_KEY": "s" * 48,
        "LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000",
        # Heartbeats every ttl/4: rare enough to stay out of the per-event command count.
        "LIVECLASS_PRESENCE_TTL_SECONDS": "240",
    }
    nodes = []
    for i in range(3):
        node_env = {**env, "LIVECLASS_NODE_ID": f"node{i + 1}"}
        node = BenchNode(work / f"node{i + 1}", node_env, name=f"node{i + 1}", admin=i == 0)
        nodes.append(node.start())
    return Cluster(work, redis, postgres, database, nodes)


def sign_in(cluster: Cluster, students: int) -> None:
    cluster.student_tokens += [cluster.nodes[0].student(i) for i in range(students)]


def join_token(cluster: Cluster, room_id: str, access: str) -> str:
    return str(cluster.nodes[0].join(room_id, access)["token"])


def new_room(cluster: Cluster, title: str) -> str:
    return cluster.nodes[0].create_room(title)


async def open_ws(node: BenchNode, room_id: str, token: str) -> ClientConnection:
    url = f"{node.ws_url}/ws/rooms/{room_id}?token={token}"
    ws = await connect(url, compression=None, max_size=None, open_timeout=60, proxy=None)
    welcome = await ws.recv()
    assert b'"welcome"' in (welcome.encode() if isinstance(welcome, str) else welcome)
    return ws


async def commandstats(client: Redis) -> Counter[str]:
    stats = await client.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})


def pct(values: list[int], q: float) -> float | None:
    """A latency percentile in ms (``values`` in ns)."""
    return percentile(values, q, scale=1e6)


async def run_window(
    cluster: Cluster, nodes: int, clients: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One measured run: `clients` over the first `nodes` nodes, hosts chatting on node 1."""
    room_id = new_room(cluster, f"scale {nodes}x{clients}")
    host_token = join_token(cluster, room_id, cluster.nodes[0].admin_token)
    tokens = [join_token(cluster, room_id, t) for t in cluster.student_tokens]
    senders = max(1, round(args.rate / PER_SENDER_RATE))
    gate = asyncio.Semaphore(16)

    async def receiver(i: int) -> Receiver:
        node = i % nodes
        async with gate:
            ws = await open_ws(cluster.nodes[node], room_id, tokens[i % len(tokens)])
        found = Receiver(node, ws)
        found.task = asyncio.create_task(found.read())
        return found

    progress(f"{nodes} node(s), {clients} clients: connecting")
    receivers = await asyncio.gather(*(receiver(i) for i in range(clients)))
    hosts = [await open_ws(cluster.nodes[0], room_id, host_token) for _ in range(senders)]
    drains = [asyncio.create_task(_drain(ws)) for ws in hosts]
    await asyncio.sleep(1.0)  # arrivals settle

    admin = Redis.from_url(cluster.redis.url)
    start = time.monotonic_ns() + int(args.warmup * 1e9)
    end = start + int(args.seconds * 1e9)
    for found in receivers:
        found.window[:] = [start, end]
    pids = cluster.pids()
    cpu_before, busy_before, me_before = None, 0.0, 0.0
    stats_before: Counter[str] = Counter()
    sent = in_window = 0
    due = time.monotonic_ns()
    while (now := time.monotonic_ns()) < end:
        if cpu_before is None and now >= start:
            stats_before = await commandstats(admin)
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            busy_before, me_before = machine_busy_seconds(), cpu_seconds(os.getpid())
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
            now = time.monotonic_ns()
        text = b"ts:%d #%d" % (now, sent)
        await hosts[sent % senders].send(
            b'{"type":"chat.send","text":"%s","ref":"%d"}' % (text, sent), text=True
        )
        sent += 1
        in_window += start <= now < end
        due += 1e9 / args.rate
    stats_after = await commandstats(admin)
    cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    busy = machine_busy_seconds() - busy_before
    me = cpu_seconds(os.getpid()) - me_before
    await asyncio.sleep(args.drain)
    await admin.aclose()
    for ws in [*hosts, *(r.ws for r in receivers)]:
        await ws.close()
    for task in [*drains, *(r.task for r in receivers if r.task)]:
        task.cancel()

    assert cpu_before is not None
    used = {name: round(cpu_after[name] - cpu_before[name], 2) for name in pids}
    delta = stats_after - stats_before
    events = max(1, in_window)
    same = [lat for r in receivers if r.node == 0 for lat in r.latencies]
    other = [lat for r in receivers if r.node != 0 for lat in r.latencies]
    per_node = []
    for node in range(nodes):
        got = sum(len(r.latencies) for r in receivers if r.node == node)
        cpu = used[f"node{node + 1}"]
        per_node.append(
            {
                "node": node + 1,
                "clients": sum(1 for r in receivers if r.node == node),
                "deliveries_per_s": round(got / args.seconds),
                "cpu_seconds": cpu,
                "deliveries_per_cpu_second": round(got / cpu) if cpu else None,
            }
        )
    ours = sum(used.values()) + me
    return {
        "nodes": nodes,
        "clients": clients,
        "events": in_window,
        "expected_deliveries": in_window * clients,
        "deliveries": len(same) + len(other),
        "latency_ms": {
            "senders_node": {"p50": pct(same, 0.5), "p99": pct(same, 0.99), "n": len(same)},
            "other_nodes": {"p50": pct(other, 0.5), "p99": pct(other, 0.99), "n": len(other)},
        },
        "per_node": per_node,
        "redis": {
            "commands_per_event": round(sum(delta.values()) / events, 2),
            "by_command_per_event": {k: round(v / events, 2) for k, v in delta.most_common(8)},
            "cpu_seconds": used.get("redis"),
        },
        "machine_cpu_seconds": {
            "busy": round(busy, 2),
            "ours": round(ours, 2),
            "client_process": round(me, 2),
            "rest_postgres_and_others": round(max(0.0, busy - ours), 2),
            "window_seconds": args.seconds,
        },
    }


async def _drain(ws: ClientConnection) -> None:
    """Read (and drop) what a host connection gets, so its queue never fills."""
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    single = [r for r in runs if r["nodes"] == 1]
    base = statistics.median(r["latency_ms"]["senders_node"]["p50"] or 0 for r in single)
    added = {}
    for n in (2, 3):
        found = [r["latency_ms"]["other_nodes"]["p50"] for r in runs if r["nodes"] == n]
        if found and all(v is not None for v in found):
            added[f"{n}_nodes"] = round(statistics.median(found) - base, 2)
    per_event = {f"{r['nodes']}x{r['clients']}": r["redis"]["commands_per_event"] for r in runs}
    return {
        "single_node_p50_ms": base,
        "cross_node_p50_added_ms": added,
        "cross_node_p50_added_under_2ms": all(v < 2 for v in added.values()) if added else None,
        "redis_commands_per_event": per_event,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="liveclass-scale-"))
    cluster = start_cluster(work)
    load = os.getloadavg()
    try:
        sign_in(cluster, args.students)
        runs = []
        for nodes in (1, 2, 3):
            for clients in (args.clients, 2 * args.clients):
                runs.append(await run_window(cluster, nodes, clients, args))
                progress(f"done: {orjson.dumps(runs[-1]['latency_ms']).decode()}")
    finally:
        for node in cluster.nodes:
            node.stop()
        cluster.redis.stop()
        cluster.postgres.drop_database(cluster.database)
        cluster.postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "benchmark": "scale-out fan-out",
        "settings": vars(args),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(v, 2) for v in load],
        "loadavg_at_end": [round(v, 2) for v in os.getloadavg()],
        "summary": summarize(runs),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=150, help="clients (runs use 1x and 2x)")
    parser.add_argument("--rate", type=float, default=20.0, help="chat messages/s in all")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--drain", type=float, default=2.0)
    parser.add_argument("--students", type=int, default=10, help="accounts the clients share")
    parser.add_argument("--quick", action="store_true", help="small and short: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.rate, args.seconds, args.warmup, args.drain = 20, 8.0, 3.0, 1.0, 1.0
        args.students = 3
    print(orjson.dumps(asyncio.run(main_async(args)), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
