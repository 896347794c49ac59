"""Room fan-out benchmark (issue 3): one room, many clients, a host chatting at a steady rate.

Measures, in one run and on this machine:

* liveclass: ``--clients`` in one open room while host connections send ``chat.send`` at
  ``--rate`` messages/s in all; deliveries/s, end-to-end latency (p50/p99, and each message's
  fastest delivery), server RSS and server CPU;
* the ceiling: a minimal ``websockets`` server (``websockets.asyncio.server.serve`` plus
  ``websockets.broadcast`` of the same JSON event) driven by the same client processes at the
  same rate; our fraction of it. ``--rounds`` of ``--seconds`` alternate between the two;
* a stalled client: one more client, sent large private messages, reading in one run and
  never reading in the next: when it is dropped, and the others' latency in both runs;
* memory per idle connection: server RSS with ``--idle`` more idle connections minus RSS
  before, divided by ``--idle``, for liveclass and for the ceiling.

The servers run in their own processes (liveclass through ``tests/kits/servers.py``); the load
runs in ``--workers`` client processes (bare asyncio WebSocket clients on uvloop, see
`WSClient`). Every chat text carries its send time (``CLOCK_MONOTONIC``, shared by all
processes of the machine) and each receiver times every message it gets. Prints one JSON
object (progress goes to stderr). Method and results: ``docs/benchmarks.md``.

The parts are in ``bench/fanoutkit/``: ``wsclient`` (the bare client), ``fleet`` (the client
processes), ``ceiling`` (the ``websockets`` server), ``measure`` (timed runs, /proc figures,
percentiles), ``profile`` (py-spy), ``phases`` (fan-out rounds, the stalled client, idle
memory) and ``verdict`` (the issue's targets); the liveclass node under test and its accounts
are ``kits.bench.BenchNode`` (``tests/kits/bench.py``), shared with the other benchmarks.

    python bench/fanout.py            # the issue's figures (1,000 clients, 100 msg/s, 5,000 idle)
    python bench/fanout.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the kits: tests/kits)
import orjson
from fanoutkit.ceiling import ceiling_main
from fanoutkit.common import PER_SENDER_RATE, ROOT
from fanoutkit.fleet import Fleet, raise_nofile
from fanoutkit.phases import Bench
from fanoutkit.verdict import verdict


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run every phase asked for and return the result document."""
    work = Path(tempfile.mkdtemp(prefix="liveclass-fanout-"))
    fleet = Fleet(args.workers)
    load = os.getloadavg()
    try:
        bench = Bench(args, fleet, work)
        await bench.fanout()
        if args.idle:
            await bench.idle()
    finally:
        fleet.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    import uvicorn

    return {
        "benchmark": "room fan-out (bench/fanout.py)",
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "uvicorn": uvicorn.__version__,
            "websockets": version("websockets"),
            "event_loop": "uvloop",
            "load_average_at_start": [round(x, 2) for x in load],
        },
        "config": {
            "clients": args.clients,
            "rate": args.rate,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "idle": args.idle,
            "idle_room_size": args.idle_room_size,
            "senders": args.senders,
            "students": args.users,
            "client_processes": args.workers,
            "send_queue_bytes": args.send_queue_bytes or "server default (1 MiB)",
            "quick": args.quick,
            "profiled": bool(args.profile),
            "gc_tune_experiment": args.gc_tune,
            "root": str(args.root),
            "revision": _revision(args.root),
        },
        **bench.out,
        **verdict(bench.out["liveclass"], bench.out["ceiling"]),
    }


def _revision(root: Path) -> str:
    """The liveclass commit measured (+dirty with uncommitted changes to tracked files)."""
    git = ["git", "-C", str(root)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with ``--quick``'s smaller figures applied."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="connections in the room")
    parser.add_argument("--rate", type=float, default=100.0, help="chat messages/s in all")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections (0: skip)")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--warmup", type=float, default=2.0, help="sending before the window")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--users", type=int, default=100, help="student accounts (tabs share)")
    parser.add_argument("--senders", type=int, default=0, help="host connections that send")
    parser.add_argument("--idle-room-size", type=int, default=100, help="idle connections/room")
    parser.add_argument("--send-queue-bytes", type=int, default=0, help="server queue limit")
    parser.add_argument("--stall-max-seconds", type=float, default=120.0)
    parser.add_argument(
        "--stall-text-bytes", type=int, default=3900, help="private messages to the stalled one"
    )
    parser.add_argument("--stall-rate", type=float, default=0.0, help="their rate (def. --rate)")
    parser.add_argument("--no-stall", action="store_true", help="skip the stalled-client run")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the websockets ceiling")
    parser.add_argument("--no-liveclass", action="store_true", help="only the ceiling")
    parser.add_argument("--profile", type=Path, help="py-spy both servers (first round) here")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="liveclass tree to run (default: this one)"
    )
    parser.add_argument(
        "--gc-tune", action="store_true", help="experiment: liveclass with gc tuned (gctune/)"
    )
    parser.add_argument("--keep-logs", type=Path, help="copy liveclass server logs here")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="for liveclass"
    )
    parser.add_argument("--ceiling-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.rate, args.seconds, args.rounds, args.warmup = 100, 20.0, 3.0, 1, 1.0
        args.idle, args.users, args.idle_room_size = 300, 10, 100
        args.stall_rate = args.stall_rate or 100.0  # fills a stalled socket within ~10 s
        args.stall_max_seconds = 40.0
    if not args.senders:
        args.senders = max(1, math.ceil(args.rate / PER_SENDER_RATE))
    args.stall_rate = args.stall_rate or args.rate
    args.senders = min(args.senders, args.clients)
    return args


def main() -> None:
    """``python bench/fanout.py``: print the result document as JSON."""
    args = parse_args()
    if args.ceiling_server:
        ceiling_main(args.ceiling_server)
        return
    args.root = args.root.resolve()
    raise_nofile()
    result = asyncio.run(main_async(args))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
