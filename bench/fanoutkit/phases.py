"""The benchmark's phases: fan-out rounds, the stalled client, memory per idle connection."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

from fanoutkit.ceiling import CeilingServer
from fanoutkit.common import PER_SENDER_RATE, ROOT, mb, spread
from fanoutkit.fleet import Fleet
from fanoutkit.measure import fanout_run, report_run, settle_rss, summarize
from fanoutkit.profile import summarize_profile
from fanoutkit.verdict import drop_cause, ratio, seconds_since
from fanoutkit.wsclient import Stats, open_client
from kits.bench import BenchNode, progress
from kits.stats import rss_bytes


async def idle_memory(
    fleet: Fleet,
    pid: int,
    port: int,
    warm: list[tuple[str, bool]],
    paths: list[tuple[str, bool]],
) -> dict[str, Any]:
    """RSS with ``warm`` connections (one per room: rooms loaded), then with ``paths`` more."""
    workers = len(fleet)
    answers = await fleet.call(
        "connect",
        [
            {"group": "warm", "host": "127.0.0.1", "port": port, "paths": p}
            for p in spread(warm, workers)
        ],
    )
    check_connected(answers, len(warm), "warm-up")
    base = await settle_rss(pid)
    progress(f"idle: {len(warm)} warm-up connections, RSS {mb(base)} MiB; adding {len(paths)}")
    started = time.monotonic()
    answers = await fleet.call(
        "connect",
        [
            {"group": "idle", "host": "127.0.0.1", "port": port, "paths": p}
            for p in spread(paths, workers)
        ],
    )
    took = time.monotonic() - started
    connected = sum(a["connected"] for a in answers)
    loaded = await settle_rss(pid)
    await fleet.everyone("close", group="idle")
    await fleet.everyone("close", group="warm")
    return {
        "connections": connected,
        "failed": sum(a["failed"] for a in answers),
        "connect_seconds": round(took, 1),
        "rss_mb_before": mb(base),
        "rss_mb_with_idle": mb(loaded),
        "bytes_per_connection": round((loaded - base) / connected) if connected else None,
    }


def check_connected(answers: list[dict[str, Any]], wanted: int, what: str) -> None:
    connected = sum(a["connected"] for a in answers)
    if connected < wanted:
        failures = [f for a in answers for f in a["failures"]]
        raise RuntimeError(f"{what}: {connected}/{wanted} connected; e.g. {failures[:3]}")


async def connect_group(
    fleet: Fleet, group: str, port: int, paths: list[tuple[str, bool]]
) -> float:
    """Connect ``paths`` spread over the workers (senders spread evenly); returns seconds."""
    started = time.monotonic()
    senders = [p for p in paths if p[1]]
    others = [p for p in paths if not p[1]]
    parts = [
        s + o for s, o in zip(spread(senders, len(fleet)), spread(others, len(fleet)), strict=True)
    ]
    answers = await fleet.call(
        "connect", [{"group": group, "host": "127.0.0.1", "port": port, "paths": p} for p in parts]
    )
    check_connected(answers, len(paths), group)
    return round(time.monotonic() - started, 1)


async def room_paths(
    node: BenchNode, http: Any, room_id: str, args: argparse.Namespace
) -> list[tuple[str, bool]]:
    """Paths for ``--clients`` connections: ``--senders`` host tabs, the rest student tabs
    (``--users`` accounts, several tabs each)."""
    host = await node.join_path(http, room_id, node.admin_token)
    tokens = await asyncio.gather(
        *(node.join_path(http, room_id, t) for t in node.students[: args.users])
    )
    paths = [(host, True)] * args.senders
    paths += [(tokens[i % len(tokens)], False) for i in range(args.clients - args.senders)]
    return paths


class Bench:
    """The whole run: both servers, the client fleet, the figures."""

    def __init__(self, args: argparse.Namespace, fleet: Fleet, work: Path) -> None:
        self.args = args
        self.fleet = fleet
        env = {"LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000", "LIVECLASS_LOG_LEVEL": "warning"}
        if args.send_queue_bytes:
            env["LIVECLASS_SEND_QUEUE_BYTES"] = str(args.send_queue_bytes)
        if args.gc_tune:
            here = str(ROOT / "bench" / "gctune")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
            env["LIVECLASS_BENCH_GCTUNE"] = "1"
        env.update(item.split("=", 1) for item in args.server_env)
        self.node = BenchNode(work / "liveclass", env, root=args.root)
        self.out: dict[str, dict[str, Any]] = {"liveclass": {}, "ceiling": {}}

    def run_kwargs(self) -> dict[str, Any]:
        a = self.args
        return {"rate": a.rate, "senders": a.senders, "seconds": a.seconds, "warmup": a.warmup}

    async def fanout(self) -> None:
        """Both servers up with ``--clients`` each; rounds alternate between them."""
        import httpx

        args, fleet, node = self.args, self.fleet, self.node
        pids: dict[str, int] = {}
        ceiling = None if args.no_ceiling else CeilingServer()
        http = None
        try:
            if not args.no_liveclass:
                node.create_admin()
                node.start()
                http = httpx.AsyncClient(base_url=node.url, timeout=60)
                await node.sign_in(http, args.users, register=True)
                room = await node.create_room_async(http, "fan-out", max_participants=10_000)
                paths = await room_paths(node, http, room, args)
                pids["liveclass"] = node.pid
                await self._connect("liveclass", node.pid, node.port, paths)
            if ceiling is not None:
                ceiling.start()
                assert ceiling.process is not None
                pids["ceiling"] = ceiling.process.pid
                paths = [("/", True)] * args.senders + [("/", False)] * (
                    args.clients - args.senders
                )
                await self._connect("ceiling", ceiling.process.pid, ceiling.port, paths)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in pids}
            order = list(pids)
            for index in range(args.rounds):
                for name in order if index % 2 == 0 else order[::-1]:
                    profile = args.profile / f"{name}.txt" if args.profile and not index else None
                    run = await fanout_run(
                        fleet, pids[name], name, profile=profile, **self.run_kwargs()
                    )
                    runs[name].append(run)
                    report_run(f"{name} round {index + 1}/{args.rounds}", run)
            for name, done in runs.items():
                self.out[name]["fanout"] = {**summarize(done), **self.out[name].pop("_connect")}
                if args.profile:
                    self.out[name]["profile"] = summarize_profile(args.profile / f"{name}.txt")
            if http is not None and not args.no_stall:
                self.out["liveclass"]["stalled"] = await self.stalled(http, room)
            await fleet.everyone("close", group="ceiling")
            await fleet.everyone("close", group="liveclass")
            if not args.no_liveclass:
                errors = node.log_errors()
                self.out["liveclass"]["server_errors_logged"] = {
                    "count": len(errors),
                    "distinct": sorted(set(errors))[:5],
                }
        finally:
            if http is not None:
                await http.aclose()
            node.stop(keep_log=args.keep_logs)
            if ceiling is not None:
                ceiling.stop()

    async def _connect(self, name: str, pid: int, port: int, paths: list[tuple[str, bool]]) -> None:
        before = rss_bytes(pid)
        took = await connect_group(self.fleet, name, port, paths)
        progress(f"{name}: {len(paths)} clients connected in {took} s")
        connected = await settle_rss(pid, limit=10)
        self.out[name]["_connect"] = {
            "connect_seconds": took,
            "server_rss_mb_before_connect": mb(before),
            "server_rss_mb_connected": mb(connected),
        }

    async def stalled(self, http: Any, room: str) -> dict[str, Any]:
        """The same run twice with one more client, reading in the first, stalled in the second.

        That client (an account of its own) is also sent private chat messages of
        ``--stall-text-bytes`` at ``--stall-rate`` by extra host connections: only it (and
        the sending connection) receives them, so the others' traffic stays as in the fan-out
        runs while the stalled socket fills up within seconds. Without them, ~500-byte events
        at 100/s would take over a minute to fill what a stalled socket absorbs: the server's
        kernel send buffer (autotuned up to net.ipv4.tcp_wmem's maximum) plus the 1 MiB send
        queue; uvicorn's keepalive (ping after 10 s, 10 s to answer) would drop it first.
        The second run ends a few seconds after the client is dropped.
        """
        args, fleet, node = self.args, self.fleet, self.node
        connect = {"host": "127.0.0.1", "port": node.port}
        host_path = await node.join_path(http, room, node.admin_token)
        loner_path = await node.join_path(http, room, node.loner)
        whisperers = max(1, math.ceil(args.stall_rate / PER_SENDER_RATE))
        answers = await fleet.call(
            "connect",
            [
                {**connect, "group": "whisperers", "paths": part, "counted": False}
                for part in spread([(host_path, True)] * whisperers, len(fleet))
            ],
        )
        check_connected(answers, whisperers, "private senders")
        answers = await fleet.call(
            "connect",
            [
                {
                    **connect,
                    "group": "stalled",
                    "paths": [(loner_path, False)],
                    "counted": False,
                    "small_window": True,
                }
            ]
            + [{**connect, "group": "stalled", "paths": []}] * (len(fleet) - 1),
        )
        check_connected(answers, 1, "stalled client")
        loner_id, stalled_id = answers[0]["ids"][0]
        # The orchestrator's own connection sees presence.disconnected as it happens.
        seen = Stats()
        watcher = await open_client(seen, "127.0.0.1", node.port, loner_path)
        private = {
            "group": "whisperers",
            "senders": whisperers,
            "rate": args.stall_rate,
            "to": loner_id,
            "text_bytes": args.stall_text_bytes,
        }
        errors_before = len(node.log_errors())
        await asyncio.sleep(1.0)
        kwargs = {**self.run_kwargs(), "private": private}
        baseline = await fanout_run(fleet, node.pid, "liveclass", **kwargs)
        report_run("liveclass, stall client reading", baseline)
        await fleet.call("stall", [{"group": "stalled"}] * len(fleet))
        stalled_at = time.monotonic_ns()
        run = await fanout_run(
            fleet,
            node.pid,
            "liveclass",
            watch=lambda: seen.gone.get(stalled_id),
            max_seconds=args.stall_max_seconds,
            **kwargs,
        )
        report_run("liveclass, stall client stalled", run)
        after = (await fleet.call("unstall", [{"group": "stalled"}]))[0]["stalled"][0]
        for group in ("stalled", "whisperers"):
            await fleet.everyone("close", group=group)
        await watcher.close()
        dropped = seen.gone.get(stalled_id) or run["gone"].get(stalled_id)
        lost = after.pop("tcp_lost_while_stalled_ns")
        without, with_stall = summarize([baseline]), summarize([run], timeline=True)
        p99, p99_without = with_stall["latency_ms"]["p99"], without["latency_ms"]["p99"]
        return {
            "private_messages": {
                "rate": args.stall_rate,
                "text_bytes": args.stall_text_bytes,
                "host_connections": whisperers,
            },
            "without_stalled_client": without,
            "with_stalled_client": with_stall,
            "p99_ratio_with_over_without": ratio(p99, p99_without),
            "stalled_dropped": dropped is not None,
            "stalled_dropped_after_s": seconds_since(dropped, stalled_at),
            "stalled_tcp_reset_seen_after_s": seconds_since(lost, stalled_at),
            "send_queue_limit_bytes": args.send_queue_bytes or 1 << 20,
            "drop_cause": drop_cause(after.get("close_code"), seconds_since(dropped, stalled_at)),
            # What sat in the kernel (the server's send buffer) when it was dropped.
            "kernel_buffered_bytes": after.get("bytes_read_after_stall"),
            "stalled_after_resuming": after,
            "server_errors_logged_meanwhile": len(node.log_errors()) - errors_before,
        }

    async def idle(self) -> None:
        """Memory per idle connection: fresh servers, one after the other."""
        import httpx

        args, node = self.args, self.node
        if not args.no_liveclass:
            node.start()
            try:
                async with httpx.AsyncClient(base_url=node.url, timeout=60) as http:
                    await node.sign_in(http, args.users, register=False)
                    warm, idle = await self._idle_paths(http)
                    memory = await idle_memory(self.fleet, node.pid, node.port, warm, idle)
                self.out["liveclass"]["idle"] = {**memory, "rooms": len(warm)}
            finally:
                node.stop()
        if not args.no_ceiling:
            ceiling = CeilingServer().start()
            try:
                assert ceiling.process is not None
                self.out["ceiling"]["idle"] = await idle_memory(
                    self.fleet,
                    ceiling.process.pid,
                    ceiling.port,
                    [("/", False)],
                    [("/", False)] * args.idle,
                )
            finally:
                ceiling.stop()

    async def _idle_paths(self, http: Any) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
        """Rooms of ``--idle-room-size``; ten students per room, several tabs each."""
        args, node = self.args, self.node
        per_room = min(10, args.users)
        warm: list[tuple[str, bool]] = []
        idle: list[tuple[str, bool]] = []
        for index in range(math.ceil(args.idle / args.idle_room_size)):
            room = await node.create_room_async(http, f"idle {index}", max_participants=10_000)
            first = index * per_room % args.users
            students = (node.students[first:] + node.students[:first])[:per_room]
            paths = [await node.join_path(http, room, t) for t in students]
            warm.append((paths[0], False))
            count = min(args.idle_room_size, args.idle - len(idle))
            idle += [(paths[i % len(paths)], False) for i in range(count)]
        return warm, idle
