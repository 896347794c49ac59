"""Yjs sync benchmark: liveclass vs the y-websocket Node reference server vs pycrdt-websocket.

N stock y-websocket clients (Node, ``bench/yjs_clients.cjs``) each make M small inserts into
one shared Y.Text; we time full convergence (every client holds the same text with all N*M
edits) and read the server's CPU seconds (/proc/<pid>/stat utime+stime delta) and RSS.
The same workload runs, in the same invocation, against:

- liveclass (``python -m server serve`` via ``kits.bench.BenchNode``, real auth),
  once as configured by default and once with ``LIVECLASS_DOCUMENTS_DURABLE=false``;
- the Node reference server shipped with y-websocket@2 (``bin/server.cjs``, no auth);
- pycrdt-websocket's ``WebsocketServer`` under its ASGI adapter in uvicorn (separate
  process; ``--pycrdt-python`` names an interpreter that has ``pycrdt-websocket``).

The clients run in several Node processes (``--per-process`` clients each) that start
editing together, so the client side is not the bottleneck. Also measured: the CPU the rest
of the machine used meanwhile, and the cold load of a large compacted document.

Prints one JSON object (progress on stderr). Usage::

    python bench/yjs_sync.py [--clients 10,30] [--edits 200] [--per-process 5] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchpath import ROOT

from kits.bench import BenchNode, bearer, progress
from kits.servers import free_port, wait_for
from kits.stats import cpu_seconds, machine_busy_seconds, rss_mb

DRIVER = ROOT / "bench" / "yjs_clients.cjs"
NODE_SERVER = ROOT / "node_modules" / "y-websocket" / "bin" / "server.cjs"

PYCRDT_SERVER = """
import asyncio, sys
import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer

async def main():
    server = WebsocketServer(auto_clean_rooms=False)
    app = ASGIServer(server)
    config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]),
                            log_level="warning", ws_max_size=64 * 1024 * 1024)
    async with server:
        await uvicorn.Server(config).serve()

asyncio.run(main())
"""


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def subprocess_server(argv: list[str], port: int, env: dict[str, str]) -> Iterator[int]:
    """Run a server process until it listens on ``port``; yield its pid."""
    with tempfile.TemporaryFile() as log:
        env = {**os.environ, **env}
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            try:
                wait_for(lambda: proc.poll() is None and port_open(port), timeout=30, what=argv[0])
            except Exception:
                log.seek(0)
                why = log.read().decode(errors="replace")
                raise RuntimeError(f"{argv[:2]} did not start: {why}") from None
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Liveclass(BenchNode):
    """liveclass (``kits.bench.BenchNode``): its admin opens rooms and collects join tokens.
    Saturation is the point here: the per-connection rate limit (a policy) is lifted."""

    UNLIMITED = {
        "LIVECLASS_YJS_MESSAGES_PER_SECOND": "1000000",
        "LIVECLASS_YJS_MESSAGE_BURST": "100000000",
        "LIVECLASS_YJS_BYTES_PER_SECOND": "1073741824",
    }

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, name: str = "liveclass"
    ) -> None:
        super().__init__(data_dir, {**self.UNLIMITED, **(env or {})}, name=name)

    def target(self, clients: int, label: str, room_id: str = "") -> dict[str, Any]:
        """A (fresh) room's notes document and one join token per client."""
        room_id = room_id or self.create_room(f"bench {label}")
        tokens: list[str] = []
        url = room = ""
        for _ in range(clients):
            body = self.join(room_id)
            tokens.append(body["token"])
            doc = next(d for d in body["documents"] if d["name"].endswith("/notes"))
            room = doc["name"]
            url = doc["url"][: -len("/" + room)]
        return {"url": url, "room": room, "tokens": tokens, "room_id": room_id}


def load_in_process(data_dir: Path, name: str, repeat: int = 5) -> dict[str, Any]:
    """Time ``DocumentStore.load`` (the database read + apply a cold node does) against the
    stopped node's database, as the node left it and after one more full compaction."""
    import asyncio

    from persistence.documents import DocumentStore
    from persistence.engine import create_engine, create_sessionmaker
    from persistence.group_commit import GroupCommitter

    async def measure() -> dict[str, Any]:
        url = f"sqlite+aiosqlite:///{(data_dir / 'liveclass.db').resolve()}"
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        committer = GroupCommitter(sessions)
        store = DocumentStore(committer, sessions)
        figures: dict[str, Any] = {}
        try:
            for label in ("as_left", "compacted"):
                if label == "compacted":
                    await store.compact(name)
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    loaded = await store.load(name)
                    times.append(round((time.perf_counter() - t0) * 1000, 1))
                figures[label] = {
                    "load_ms": times,
                    "log_tail": loaded.log_length,
                    "snapshot_bytes": loaded.snapshot_bytes,
                    "text_length": len(str(loaded.doc.get("notes", type=Text))),
                }
        finally:
            await committer.close()
            await engine.dispose()
        return figures

    from pycrdt import Text

    return asyncio.run(measure())


def cold_load(data_dir: Path, updates: int, timeout: float, pattern: str) -> dict[str, Any]:
    """Build a document from ``updates`` one-edit updates, then time cold loads.

    ``pattern`` "typing" is B4-like (one character per update at a moving cursor, ~30%
    backspaces, occasional jumps: how people write); "scattered" puts every insert at an
    unrelated position, the worst case for the encoded size.

    The node compacts the update log on its own (``LIVECLASS_YJS_COMPACT_THRESHOLD``). With
    the node stopped, ``DocumentStore.load`` is timed in this process; then, with the node
    restarted before each read so nothing is in memory, the REST read and a fresh stock
    client's connect + sync (which includes the client applying the whole document).
    """
    with Liveclass(data_dir) as lc:
        target = lc.target(1, "cold")
        t0 = time.perf_counter()
        built = drive({**target, "pattern": pattern}, updates, timeout)
        build_s = time.perf_counter() - t0
        if "error" in built:
            return {"error": built["error"]}
        lc.server.stop()
        in_process = load_in_process(lc.server.data_dir, target["room"])
        lc.restart()
        loads = []
        rest_s = []
        for _ in range(3):
            t1 = time.perf_counter()
            notes = f"/api/v1/documents/rooms/{target['room_id']}/notes"
            got = lc.http.get(notes, headers=bearer(lc.admin_token))
            rest_s.append(round(time.perf_counter() - t1, 3))
            got.raise_for_status()
            lc.restart()
            loads.append(drive(lc.target(1, "cold", room_id=target["room_id"]), 0, timeout))
            lc.restart()
        return {
            "pattern": pattern,
            "updates": updates,
            "build_s": round(build_s, 2),
            "document_bytes": built.get("update_bytes"),
            "text_length": built.get("text_length"),
            "store_load": in_process,
            "cold_rest_read_s": rest_s,
            "cold_client_connect_sync_s": [x.get("connect_sync_s") for x in loads],
            "complete": all(x.get("text_length") == built.get("text_length") for x in loads)
            and all(f["text_length"] == built.get("text_length") for f in in_process.values()),
        }


class Plain:
    """A server without auth: any path is a document."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self._cm: Any = None
        self.pid = 0

    def __enter__(self) -> Plain:
        self._cm = subprocess_server(self.argv, self.port, self.env)
        self.pid = self._cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)

    def target(self, clients: int, label: str) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}", "room": f"bench-{label}", "clients": clients}


def node_reference() -> Plain:
    port = free_port()
    argv = ["node", str(NODE_SERVER)]
    return Plain("node-y-websocket", argv, {"HOST": "127.0.0.1", "PORT": str(port)}, port)


def pycrdt_websocket(python: str) -> Plain:
    port = free_port()
    return Plain("pycrdt-websocket", [python, "-c", PYCRDT_SERVER, str(port)], {}, port)


def _lines(proc: subprocess.Popen[str], out: queue.Queue[tuple[int, dict[str, Any]]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            out.put((proc.pid, json.loads(line)))
    out.put((proc.pid, {"error": f"driver {proc.pid} exited"}))


def drive(
    target: dict[str, Any],
    edits: int,
    timeout: float,
    *,
    per_process: int = 0,
    on_start: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run the Node clients against ``target``, ``per_process`` clients per Node process
    (0: all in one); every process connects and syncs, then all start editing together.
    ``on_start`` runs just before the start. Returns the merged figures."""
    tokens = target.get("tokens")
    count = len(tokens) if tokens else int(target["clients"])
    size = per_process or count
    procs: list[subprocess.Popen[str]] = []
    lines: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()
    deadline = time.monotonic() + timeout + 30

    def next_line(pid: int, pending: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
        while not pending[pid]:
            got_pid, got = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            pending[got_pid].append(got)
        return pending[pid].pop(0)

    try:
        for offset in range(0, count, size):
            cfg = {
                **{k: v for k, v in target.items() if k not in ("tokens", "clients")},
                "tokens": tokens[offset : offset + size] if tokens else None,
                "clients": min(size, count - offset),
                "offset": offset,
                "total_clients": count,
                "edits": edits,
                "timeout": timeout,
                "barrier": True,
            }
            proc = subprocess.Popen(
                ["node", str(DRIVER), json.dumps(cfg)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            procs.append(proc)
            threading.Thread(target=_lines, args=(proc, lines), daemon=True).start()
        pending: dict[int, list[dict[str, Any]]] = {p.pid: [] for p in procs}
        ready = [next_line(p.pid, pending) for p in procs]
        if errors := [r["error"] for r in ready if "error" in r]:
            return {"error": errors[0]}
        if on_start is not None:
            on_start()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        done = [next_line(p.pid, pending) for p in procs]
    except queue.Empty:
        return {"error": "driver timed out"}
    finally:
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if errors := [r["error"] for r in done if "error" in r]:
        return {"error": errors[0]}
    start = min(r["start_ms"] for r in done)
    return {
        "clients": count,
        "edits_per_client": edits,
        "node_processes": len(procs),
        "connect_sync_s": max(r["connect_sync_s"] for r in ready),
        "write_s": round((max(r["written_ms"] for r in done) - start) / 1000, 3),
        "converge_s": round((max(r["converged_ms"] for r in done) - start) / 1000, 3),
        "clients_cpu_s": round(sum(r["cpu_s"] for r in done), 3),
        "equal": len({r["text_sha1"] for r in done}) == 1 and all(r["equal"] for r in done),
        "complete": all(r["complete"] for r in done),
        "text_length": done[0]["text_length"],
        "update_bytes": done[0]["update_bytes"],
    }


def run_case(
    server: Any, clients: int, edits: int, timeout: float, label: str, per_process: int
) -> dict[str, Any]:
    """One workload against one running server, with its CPU and memory cost, and what the
    rest of the machine (other processes, not the server or the clients) used meanwhile."""
    target = server.target(clients, label)
    marks: dict[str, float] = {}

    def start() -> None:
        marks.update(cpu=cpu_seconds(server.pid), busy=machine_busy_seconds())
        marks["own"] = time.process_time()

    result = drive(target, edits, timeout, per_process=per_process, on_start=start)
    cpu = cpu_seconds(server.pid) - marks.get("cpu", 0.0)
    busy = machine_busy_seconds() - marks.get("busy", 0.0)
    own = time.process_time() - marks.get("own", 0.0)
    result["server_cpu_s"] = round(cpu, 3)
    result["server_rss_mib"] = round(rss_mb(server.pid), 1)
    result["server_peak_rss_mib"] = round(rss_mb(server.pid, "VmHWM"), 1)
    if "converge_s" in result:
        total = clients * edits
        window = result["converge_s"]
        other = busy - cpu - result["clients_cpu_s"] - own
        result["edits_per_s"] = round(total / window, 1)
        result["cpu_ms_per_1k_edits"] = round(1000 * cpu / total * 1000, 2)
        result["other_cpu_on_machine"] = round(max(other, 0.0) / max(window, 1e-3), 2)
    return result


def ratios(
    results: dict[str, dict[str, Any]], base: str, mine: str = "liveclass"
) -> dict[str, Any]:
    """``mine`` / ``base`` for throughput (higher is better) and server CPU per edit."""
    out: dict[str, Any] = {}
    ours = results.get(mine, {})
    theirs = results.get(base, {})
    for key, rc in ours.items():
        bc = theirs.get(key, {})
        if "edits_per_s" in rc and "edits_per_s" in bc:
            out[key] = {
                "throughput_x": round(rc["edits_per_s"] / bc["edits_per_s"], 2),
                "cpu_x": round(rc["server_cpu_s"] / max(bc["server_cpu_s"], 1e-3), 2),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="10,30", help="comma-separated client counts")
    parser.add_argument("--edits", type=int, default=200, help="edits per client")
    parser.add_argument("--quick", action="store_true", help="10 clients x 50 edits")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument(
        "--pycrdt-python",
        default=os.environ.get("PYCRDT_PYTHON", sys.executable),
        help="interpreter with pycrdt-websocket installed",
    )
    parser.add_argument(
        "--servers",
        default="liveclass,liveclass-nondurable,node-y-websocket,pycrdt-websocket",
    )
    parser.add_argument(
        "--cold-updates", type=int, default=100_000, help="cold-load document size (0: skip)"
    )
    parser.add_argument(
        "--cold-patterns",
        default="typing,scattered",
        help="cold-load edit patterns: typing (B4-like), scattered (worst case)",
    )
    parser.add_argument(
        "--per-process", type=int, default=5, help="clients per Node process (0: all in one)"
    )
    args = parser.parse_args()
    counts = [10] if args.quick else [int(c) for c in args.clients.split(",")]
    edits = 50 if args.quick else args.edits
    cold_updates = min(args.cold_updates, 2000) if args.quick else args.cold_updates
    wanted = args.servers.split(",")

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="yjs-bench-") as tmp:
        servers: list[Any] = [
            Liveclass(Path(tmp) / "lc"),
            Liveclass(
                Path(tmp) / "lc-nd",
                env={"LIVECLASS_DOCUMENTS_DURABLE": "false"},
                name="liveclass-nondurable",
            ),
            node_reference(),
            pycrdt_websocket(args.pycrdt_python),
        ]
        for server in servers:
            if server.name not in wanted:
                continue
            per: dict[str, Any] = {}
            try:
                with server:
                    for n in counts:
                        case = run_case(server, n, edits, args.timeout, f"{n}", args.per_process)
                        per[f"{n}x{edits}"] = case
                        progress(
                            f"{server.name} {n}x{edits}: {case.get('edits_per_s')} edits/s, "
                            f"server CPU {case.get('server_cpu_s')} s, "
                            f"others {case.get('other_cpu_on_machine')} {case.get('error', '')}"
                        )
            except Exception as exc:  # a baseline that cannot start is reported, not fatal
                per["error"] = f"{type(exc).__name__}: {exc}"[:2000]
            results[server.name] = per
        cold: dict[str, Any] = {"skipped": True} if not cold_updates else {}
        for pattern in args.cold_patterns.split(",") if cold_updates else []:
            where = Path(tmp) / f"cold-{pattern}"
            try:
                cold[pattern] = cold_load(where, cold_updates, max(args.timeout, 600.0), pattern)
            except Exception as exc:
                cold[pattern] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            progress(f"cold load ({pattern}): {json.dumps(cold[pattern])}")

    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "node": node_version.strip(),
        },
        "workload": {
            "clients": counts,
            "edits_per_client": edits,
            "driver": "yjs_clients.cjs",
            "clients_per_node_process": args.per_process or "all",
        },
        "results": results,
        "ratio_vs_node_reference": ratios(results, "node-y-websocket"),
        "ratio_vs_pycrdt_websocket": ratios(results, "pycrdt-websocket"),
        "liveclass_cold_load": cold,
        "durable_vs_nondurable": ratios(results, "liveclass-nondurable"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
