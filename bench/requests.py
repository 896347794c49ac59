"""Per-request cost of an authenticated API request: node CPU per request, as a ratio to the
same node's ``/healthz`` in the same run.

One node of this tree (SQLite, the embedded defaults) with its admin signed in. For each
endpoint, wrk (one thread, ``--connections`` keep-alive connections, ``--seconds`` each)
sends the admin's bearer token; the node's CPU (utime+stime from /proc) is read before and
after, and divided by the requests served. Endpoints: ``GET /healthz`` (the baseline: the
protocol and middleware, no route logic, no authentication), ``GET /api/v1/users/me`` (one
authenticated read), ``GET /api/v1/courses`` (an authenticated list, empty) and
``PATCH /api/v1/users/me`` (a write: the profile name, an audit record, a commit). Prints
one JSON document; ``ratio`` is an endpoint's CPU per request over ``/healthz``'s.

    flock /tmp/liveclass-bench.lock python bench/requests.py
    flock /tmp/liveclass-bench.lock python bench/requests.py --seconds 3 --root /work/other
    python bench/requests.py --profile /tmp/prof   # py-spy raw profiles, one per endpoint

Needs ``wrk`` (Debian: ``apt-get install -y wrk``); ``--profile`` needs py-spy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the tree and its kits on sys.path)

from kits.bench import ROOT, BenchNode, progress

ENDPOINTS: tuple[tuple[str, str, str | None], ...] = (
    ("GET", "/healthz", None),
    ("GET", "/api/v1/users/me", None),
    ("GET", "/api/v1/courses", None),
    ("PATCH", "/api/v1/users/me", '{"name": "Bench Admin"}'),
)


def node_cpu(pid: int) -> float:
    """The process's user+system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_script(method: str, body: str | None, folder: Path) -> Path:
    """A wrk Lua script sending ``method`` with a JSON ``body``."""
    script = folder / f"{method.lower()}.lua"
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    script.write_text("\n".join(lines) + "\n")
    return script


def run(
    node: BenchNode,
    method: str,
    path: str,
    body: str | None,
    *,
    seconds: int,
    connections: int,
    folder: Path,
    profile: Path | None,
) -> dict[str, Any]:
    """One endpoint under wrk: requests served, non-2xx answers, node CPU per request."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {node.admin_token}"]
    command += ["-s", str(wrk_script(method, body, folder)), node.url + path]
    spy = None
    if profile is not None:
        out = profile / f"{method.lower()}{path.replace('/', '_')}.txt"
        spy_command = ["py-spy", "record", "-p", str(node.pid), "-r", "200", "-f", "raw"]
        spy = subprocess.Popen(
            [*spy_command, "-o", str(out), "--nonblocking", "-d", str(seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    before = node_cpu(node.pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = node_cpu(node.pid) - before
    if spy is not None:
        spy.wait()
    served = next(int(line.split()[0]) for line in output.splitlines() if "requests in" in line)
    errors = [line.strip() for line in output.splitlines() if "Non-2xx" in line]
    return {
        "method": method,
        "path": path,
        "requests": served,
        "rps": round(served / seconds, 1),
        "node_cpu_ms_per_request": round(cpu / served * 1000, 4),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="per endpoint and round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--root", type=Path, default=ROOT, help="the liveclass tree to serve")
    parser.add_argument("--profile", type=Path, help="a folder for py-spy raw profiles")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="liveclass-requests-"))
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    node = BenchNode(folder / "data", root=args.root)
    node.start()
    rounds: list[list[dict[str, Any]]] = []
    try:
        for method, path, body in ENDPOINTS:  # warm up: imports, caches, the first rows
            run(node, method, path, body, seconds=1, connections=2, folder=folder, profile=None)
        for number in range(args.rounds):
            progress(f"round {number + 1}")
            rounds.append(
                [
                    run(
                        node,
                        method,
                        path,
                        body,
                        seconds=args.seconds,
                        connections=args.connections,
                        folder=folder,
                        profile=args.profile if number == 0 else None,
                    )
                    for method, path, body in ENDPOINTS
                ]
            )
    finally:
        node.stop()
    results = []
    for index, (method, path, _) in enumerate(ENDPOINTS):
        cost = min(r[index]["node_cpu_ms_per_request"] for r in rounds)
        base = min(r[0]["node_cpu_ms_per_request"] for r in rounds)
        results.append(
            {
                "endpoint": f"{method} {path}",
                "node_cpu_ms_per_request": cost,
                "ratio_to_healthz": round(cost / base, 2),
                "rps": max(r[index]["rps"] for r in rounds),
                "errors": sorted({e for r in rounds for e in r[index]["errors"]}),
            }
        )
    report = {
        "benchmark": "requests",
        "root": str(args.root),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
