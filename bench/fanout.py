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

The servers run in their own processes (liveclass through ``tests/liveserver.py``); the load
runs in ``--workers`` client processes (bare asyncio WebSocket clients on uvloop, see
`WSClient`). Every chat text carries its send time (``CLOCK_MONOTONIC``, shared by all
processes of the machine) and each receiver times every message it gets. Prints one JSON
object (progress goes to stderr). Method and results: ``docs/benchmarks.md``.

    python bench/fanout.py            # the issue's figures (1,000 clients, 100 msg/s, 5,000 idle)
    python bench/fanout.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import multiprocessing
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1234"
ADMIN_EMAIL = "admin@bench.liveclass"
CREDENTIALS = ("--email", ADMIN_EMAIL, "--password", PASSWORD)
KEEPALIVE_PING_INTERVAL = 10.0
"""uvicorn's ws_ping_interval and ws_ping_timeout as server.py sets them."""
PER_SENDER_RATE = 4.0
"""Messages/s per host connection: under the room channel's chat limit (5/s, burst 10)."""

TS = re.compile(rb'"text":"ts:(\d+)')
GONE = re.compile(rb'"presence\.disconnected".*?"conn_id":"([0-9a-f]+)"')
YOU = re.compile(rb'"you":\{"user_id":"([^"]+)"[^{}]*?"conn_id":"([0-9a-f]+)"')
SPY_OPTIONS = ("-r", "200", "--native", "-f", "raw", "-o")
BUCKET_NS = 100_000
"""Latency histogram resolution: 0.1 ms."""


# ---------------------------------------------------------------- minimal WebSocket client


class Stats:
    """What one process's clients received: deliveries in the window and their latencies."""

    def __init__(self) -> None:
        self.t0 = 0
        self.t1 = 0
        self.deliveries = 0
        self.latency: Counter[int] = Counter()
        self.by_second: Counter[tuple[int, int]] = Counter()
        self.first: dict[int, int] = {}  # message (its send time) -> its fastest delivery
        self.gone: dict[str, int] = {}
        self.errors = 0
        self.frames = 0
        self.bytes = 0

    def window(self, t0: int, t1: int) -> None:
        self.t0, self.t1 = t0, t1
        self.deliveries = self.errors = self.frames = self.bytes = 0
        self.latency = Counter()
        self.by_second = Counter()
        self.first = {}

    def on_message(self, payload: bytes, now: int) -> None:
        self.frames += 1
        self.bytes += len(payload)
        t0, t1 = self.t0, self.t1
        if t1:
            latency, first = self.latency, self.first
            for found in TS.finditer(payload):
                sent = int(found.group(1))
                if t0 <= sent < t1:
                    self.deliveries += 1
                    took = now - sent
                    bucket = took // BUCKET_NS
                    latency[bucket] += 1
                    self.by_second[(sent - t0) // 1_000_000_000, bucket // 10] += 1
                    if took < first.get(sent, 1 << 62):
                        first[sent] = took
        if b"presence.disconnected" in payload:
            for found in GONE.finditer(payload):
                self.gone.setdefault(found.group(1).decode(), now)
        if b'"type":"error"' in payload:
            self.errors += payload.count(b'"type":"error"')


class WSClient(asyncio.Protocol):
    """A bare RFC 6455 client: just enough to count and time what a server fans out.

    Parses unmasked server frames from one buffer, answers pings, masks what it sends. What
    it receives goes to `Stats` unless it is not ``counted``; ``stall()`` stops reading.
    """

    def __init__(
        self, stats: Stats, host: str, port: int, path: str, *, counted: bool = True
    ) -> None:
        loop = asyncio.get_running_loop()
        self.stats = stats
        self.host, self.port, self.path = host, port, path
        self.counted = counted
        self.stalled = False
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.open = False
        self.conn_id: str | None = None
        self.user_id: str | None = None
        self.welcomed: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None
        self.lost_at: int | None = None
        self.lost_error: str | None = None
        self.bytes_in = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        assert self.transport is not None
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            if b" 101 " not in status + b" ":
                self._fail(f"handshake refused: {status.decode(errors='replace')}")
                return
            del buf[: end + 4]
            self.upgraded = self.open = True
        now = time.monotonic_ns()
        pos, size = 0, len(buf)
        while size - pos >= 2:
            length, head = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            opcode = buf[pos] & 0x0F
            payload = bytes(buf[pos + head : end])
            pos = end
            if opcode <= 2:
                self._message(payload, now)
            elif opcode == 9:
                self.send_frame(0xA, payload)
            elif opcode == 8:
                self._closing(payload)
                break
        if pos:
            del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.lost_at = time.monotonic_ns()
        if exc is not None:
            self.lost_error = type(exc).__name__
        if not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError(f"lost before welcome: {exc!r}"))
            self.welcomed.exception()
        if not self.closed.done():
            self.closed.set_result(None)

    # sending

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        size = len(payload)
        if size < 126:
            head = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            head = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
        mask = os.urandom(4)
        keys = (mask * (size // 4 + 1))[:size]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(
            size, "big"
        )
        self.transport.write(head + mask + masked)

    def send_text(self, text: bytes) -> None:
        self.send_frame(0x1, text)

    async def close(self, grace: float = 3.0) -> None:
        """Closing handshake (1000), then drop the TCP connection."""
        if self.transport is None:
            return
        if self.open:
            self.send_frame(0x8, (1000).to_bytes(2, "big"))
            self.open = False
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), grace)
        if not self.closed.done():
            self.transport.abort()

    # receiving

    def stall(self) -> None:
        """Stop reading for good (until `unstall`); keep writing a probe every second."""
        if self.transport is not None and not self.stalled:
            self.stalled = True
            self.transport.pause_reading()
            self._probe()

    def _message(self, payload: bytes, now: int) -> None:
        if self.conn_id is None and payload.startswith(b'{"type":"welcome"'):
            found = YOU.search(payload)
            self.user_id, self.conn_id = (
                (found.group(1).decode(), found.group(2).decode()) if found else ("?", "?")
            )
            if not self.welcomed.done():
                self.welcomed.set_result(None)
        if self.counted:
            self.stats.on_message(payload, now)

    def _probe(self) -> None:
        # A stalled client still writes (a ping a second): a reset connection shows up at once.
        if self.open and self.transport is not None and not self.transport.is_closing():
            if self.stalled:
                self.send_frame(0x9, b"probe")
            asyncio.get_running_loop().call_later(1.0, self._probe)

    def _closing(self, payload: bytes) -> None:
        self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        if self.open:
            self.send_frame(0x8, payload[:2])
            self.open = False
        if self.transport is not None:
            self.transport.close()
        if not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError(f"closed {self.close_code}"))
            self.welcomed.exception()

    def _fail(self, why: str) -> None:
        if not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError(why))
            self.welcomed.exception()
        if self.transport is not None:
            self.transport.abort()


async def open_client(
    stats: Stats,
    host: str,
    port: int,
    path: str,
    *,
    counted: bool = True,
    small_window: bool = False,
    patience: float = 120,
) -> WSClient:
    """Connect, upgrade and wait for the server's welcome."""
    loop = asyncio.get_running_loop()
    client = WSClient(stats, host, port, path, counted=counted)
    if small_window:
        # A small receive window: once it stops reading, the server's side fills up.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        await loop.create_connection(lambda: client, sock=sock)
    else:
        await loop.create_connection(lambda: client, host, port)
    try:
        await asyncio.wait_for(asyncio.shield(client.welcomed), patience)
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        raise
    return client


# ---------------------------------------------------------------- client worker processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """A memory figure (VmRSS, VmHWM) of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class Worker:
    """One client process: holds groups of connections and runs timed sends on command."""

    def __init__(self, pipe: Connection, stop: Any) -> None:
        self.pipe = pipe
        self.stop = stop  # shared end of the measurement window (ns; 0: as planned)
        self.stats = Stats()
        self.groups: dict[str, list[WSClient]] = {}
        self.senders: dict[str, list[WSClient]] = {}

    async def serve(self) -> None:
        while True:
            # A thread reads the pipe: the event loop's add_reader would make it non-blocking.
            command, args = await asyncio.to_thread(self.pipe.recv)
            if command == "exit":
                break
            try:
                result = await getattr(self, command)(**args)
            except Exception as exc:
                result = {"exception": repr(exc)}
            self.pipe.send(result)
        for group in list(self.groups):
            await self.close(group)

    async def connect(
        self,
        group: str,
        host: str,
        port: int,
        paths: list[tuple[str, bool]],
        counted: bool = True,
        small_window: bool = False,
        concurrency: int = 32,
    ) -> dict[str, Any]:
        """Open one connection per path (flag: it also sends); wait for every welcome."""
        gate = asyncio.Semaphore(concurrency)
        clients = self.groups.setdefault(group, [])
        senders = self.senders.setdefault(group, [])

        async def one(path: str, sender: bool) -> None:
            async with gate:
                client = await open_client(
                    self.stats, host, port, path, counted=counted, small_window=small_window
                )
            clients.append(client)
            if sender:
                senders.append(client)

        outcomes = await asyncio.gather(*(one(p, s) for p, s in paths), return_exceptions=True)
        failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
        return {
            "connected": len(paths) - len(failures),
            "failed": len(failures),
            "failures": failures[:3],
            "ids": [(c.user_id, c.conn_id) for c in clients] if small_window else [],
        }

    async def stall(self, group: str) -> dict[str, Any]:
        """Stop reading on every connection of ``group``."""
        for client in self.groups.get(group, []):
            client.stall()
        return {"stalled": len(self.groups.get(group, []))}

    async def run(
        self,
        group: str,
        rate: float,
        total_senders: int,
        t_send: int,
        t0: int,
        t1: int,
        drain: float,
        private: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send this process's share of ``rate`` (total, all processes) from ``t_send`` until
        the window ends, count deliveries of messages sent in [t0, t1), then wait ``drain`` s
        for stragglers. The orchestrator may end the window early through ``stop``.

        ``private``: also send private messages (``to`` one user, ``text_bytes`` of filler,
        not counted) at ``rate`` from the connections of ``group`` (``senders`` in all).
        """
        stats = self.stats
        stats.window(t0, t1)
        receivers = [c for c in self.groups.get(group, []) if c.open]
        senders = [c for c in self.senders.get(group, []) if c.open]
        tag = secrets.token_hex(8).encode()
        cpu: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + (t0 - time.monotonic_ns()) / 1e9, _mark, cpu, "t0")

        def chat(now: int, n: int) -> bytes:
            return b'{"type":"chat.send","text":"ts:%d %s #%d","ref":"%d"}' % (now, tag, n, n)

        loops = [self._pace(senders, rate * len(senders) / max(1, total_senders), t_send, chat)]
        if private:
            to, filler = private["to"].encode(), b"x" * private["text_bytes"]

            def whisper(now: int, n: int) -> bytes:
                return b'{"type":"chat.send","to":"%s","text":"%s","ref":"p%d"}' % (to, filler, n)

            mine = [c for c in self.senders.get(private["group"], []) if c.open]
            share = private["rate"] * len(mine) / max(1, private["senders"])
            loops.append(self._pace(mine, share, t_send, whisper))
        (sent, in_window), *_ = await asyncio.gather(*loops)
        _mark(cpu, "t1")
        await asyncio.sleep(max(0.0, drain - (time.monotonic_ns() - stats.t1) / 1e9))
        result = {
            "receivers": len(receivers),
            "sent_in_window": in_window,
            "sent": sent,
            "deliveries": stats.deliveries,
            "latency": dict(stats.latency),
            "by_second": dict(stats.by_second),
            "first": stats.first,
            "errors": stats.errors,
            "frames": stats.frames,
            "bytes": stats.bytes,
            "t1": stats.t1,
            "cpu_seconds": cpu.get("t1", 0.0) - cpu.get("t0", 0.0),
            "gone": dict(stats.gone),
            "lost": [
                (c.close_code, c.lost_error) for c in self.groups.get(group, []) if not c.open
            ],
        }
        stats.window(0, 0)
        return result

    async def _pace(
        self,
        clients: list[WSClient],
        rate: float,
        t_send: int,
        message: Callable[[int, int], bytes],
    ) -> tuple[int, int]:
        """Send ``message(now, n)`` at ``rate``, round-robin over ``clients``, until the
        window ends; returns (sent, sent within the window)."""
        stats = self.stats
        sent = in_window = 0
        due = float(t_send)
        while True:
            if self.stop.value:
                stats.t1 = min(stats.t1, self.stop.value)
            if not clients or rate <= 0:
                if time.monotonic_ns() >= stats.t1:
                    break
                await asyncio.sleep(0.05)
                continue
            if due >= stats.t1:
                break
            now = time.monotonic_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
                now = time.monotonic_ns()
            client = clients[sent % len(clients)]
            if client.open:
                client.send_text(message(now, sent))
                sent += 1
                in_window += stats.t0 <= now < stats.t1
            due += 1e9 / rate
        return sent, in_window

    async def unstall(self, group: str, patience: float = 15.0) -> dict[str, Any]:
        """Let stalled clients read again: how much was waiting, and how they were closed."""
        report = []
        for client in self.groups.get(group, []):
            before = client.bytes_in
            lost_before = client.lost_at
            if client.transport is not None and not client.transport.is_closing():
                client.transport.resume_reading()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(client.closed), patience)
            report.append(
                {
                    "conn_id": client.conn_id,
                    "tcp_lost_while_stalled_ns": lost_before,
                    "close_code": client.close_code,
                    "lost_error": client.lost_error,
                    "bytes_read_after_stall": client.bytes_in - before,
                    "closed": client.closed.done(),
                }
            )
        return {"stalled": report}

    async def close(self, group: str) -> dict[str, Any]:
        clients = self.groups.pop(group, [])
        self.senders.pop(group, None)
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        return {"closed": len(clients)}


def _mark(into: dict[str, float], key: str) -> None:
    into[key] = time.process_time()


def raise_nofile() -> None:
    """Allow as many open files as the hard limit does (thousands of sockets)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_main(pipe: Connection, stop: Any) -> None:
    """Entry point of a client process."""
    raise_nofile()
    _run_loop(Worker(pipe, stop).serve())


def _run_loop(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(coro)
    else:
        uvloop.run(coro)


class Fleet:
    """The client processes, driven over pipes."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.RawValue("q", 0)
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, self.stop), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    def __len__(self) -> int:
        return len(self.pipes)

    async def call(self, command: str, args: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send one command to every worker (its own arguments each); gather the answers."""
        used = []
        for pipe, arg in zip(self.pipes, args, strict=False):
            pipe.send((command, arg))
            used.append(pipe)
        answers = await asyncio.gather(*(asyncio.to_thread(p.recv) for p in used))
        for answer in answers:
            if "exception" in answer:
                raise RuntimeError(f"worker failed in {command}: {answer['exception']}")
        return list(answers)

    async def everyone(self, command: str, **args: Any) -> list[dict[str, Any]]:
        return await self.call(command, [args] * len(self))

    def shutdown(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit", {}))
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()


# ---------------------------------------------------------------- the ceiling server


def ceiling_main(port: int) -> None:
    """A minimal websockets broadcast server doing the room's chat job (the Python ceiling)."""
    raise_nofile()
    _run_loop(_ceiling(port))


async def _ceiling(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    members: set[ServerConnection] = set()
    seq = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal seq
        user = str(uuid.uuid4())
        you = {"user_id": user, "name": "Bench", "conn_id": secrets.token_hex(8)}
        await ws.send(orjson.dumps({"type": "welcome", "protocol": 1, "you": you}), text=True)
        members.add(ws)
        try:
            async for raw in ws:
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "chat.send":
                    at = datetime.now(UTC).isoformat()
                    entry = {
                        "id": str(uuid.uuid4()),
                        "author_id": user,
                        "author_name": "Bench",
                        "text": message["text"],
                        "to_user_id": None,
                        "to_hosts": False,
                        "at": at,
                        "edited_at": None,
                        "deleted": False,
                        "reactions": {},
                    }
                    event = {"type": "chat.message", "at": at, "by": user, "message": entry}
                    seq += 1
                    broadcast(members, b'{"seq":%d,' % seq + orjson.dumps(event)[1:], text=True)
                    reply = {"type": "ack", "ref": message.get("ref"), "message_id": entry["id"]}
                    await ws.send(orjson.dumps(reply), text=True)
                elif kind == "ping":
                    await ws.send(orjson.dumps({"type": "pong"}), text=True)
        finally:
            members.discard(ws)

    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=16_384,
        max_queue=16,
        ping_interval=10,
        ping_timeout=10,
    ) as server:
        await server.serve_forever()


class CeilingServer:
    """The ceiling server in its own process."""

    def __init__(self) -> None:
        from liveserver import free_port

        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeilingServer:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--ceiling-server", str(self.port)],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                progress(f"ceiling server: pid {self.process.pid}, port {self.port}")
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("ceiling server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# ---------------------------------------------------------------- liveclass setup


class Liveclass:
    """A liveclass node with an admin, student accounts and their access tokens."""

    def __init__(self, root: Path, data_dir: Path, env: dict[str, str]) -> None:
        self.root = root
        self.data_dir = data_dir
        self.env = env
        self.server: Any = None
        self.admin_token = ""
        self.students: list[str] = []  # access tokens
        self.loner = ""

    @property
    def pid(self) -> int:
        return int(self.server.process.pid)

    @property
    def port(self) -> int:
        return int(self.server.port)

    def start(self) -> None:
        from liveserver import LiveServer

        self.server = LiveServer(self.data_dir, env=dict(self.env)).start(timeout=60)
        progress(f"liveclass node: pid {self.pid}, port {self.port}")

    def stop(self, keep_log: Path | None = None) -> None:
        if self.server is not None:
            self.server.stop()
            if keep_log is not None and self.server.log_path is not None:
                keep_log.mkdir(parents=True, exist_ok=True)
                shutil.copy(self.server.log_path, keep_log / self.server.log_path.name)

    def create_admin(self) -> None:
        env = {**os.environ, "LIVECLASS_DATA_DIR": str(self.data_dir), **self.env}
        subprocess.run(
            [sys.executable, "-m", "server", "create-admin", *CREDENTIALS],
            cwd=self.root,
            env=env,
            check=True,
            capture_output=True,
        )

    async def sign_in(self, http: Any, users: int, *, register: bool) -> None:
        """Tokens for the admin and ``users`` students (registering them first if asked)."""
        gate = asyncio.Semaphore(4)  # argon2 is the cost; two cores

        async def token(email: str) -> str:
            async with gate:
                answer = await _post(
                    http, "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        async def student(i: int) -> str:
            email = f"student{i}@bench.liveclass"
            if register:
                async with gate:
                    answer = await _post(
                        http,
                        "/api/v1/auth/register",
                        json={"email": email, "password": PASSWORD, "name": f"Student {i}"},
                    )
                if answer.status_code != 409:
                    answer.raise_for_status()
            return await token(email)

        self.admin_token = await token(ADMIN_EMAIL)
        # The last account is kept for the stalled client: nobody else connects as it.
        *self.students, self.loner = await asyncio.gather(*(student(i) for i in range(users + 1)))

    async def create_room(self, http: Any, title: str) -> str:
        answer = await _post(
            http,
            "/api/v1/rooms",
            json={"title": title, "open": True, "max_participants": 10_000},
            headers=_bearer(self.admin_token),
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    async def join_path(self, http: Any, room_id: str, access_token: str) -> str:
        answer = await _post(http, f"/api/v1/rooms/{room_id}/join", headers=_bearer(access_token))
        answer.raise_for_status()
        return f"/ws/rooms/{room_id}?token={answer.json()['token']}"

    async def room_paths(
        self, http: Any, room_id: str, clients: int, senders: int, users: int
    ) -> list[tuple[str, bool]]:
        """Paths for ``clients`` connections: ``senders`` host tabs, the rest student tabs."""
        host = await self.join_path(http, room_id, self.admin_token)
        tokens = await asyncio.gather(
            *(self.join_path(http, room_id, t) for t in self.students[:users])
        )
        paths = [(host, True)] * senders
        paths += [(tokens[i % len(tokens)], False) for i in range(clients - senders)]
        return paths

    def log_errors(self) -> list[str]:
        """Error records the node logged so far: message and the exception's last line."""
        found = []
        for line in (self.server.log() if self.server is not None else "").splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                if "Traceback" in line or "ERROR" in line:
                    found.append(line[:200])
                continue
            if isinstance(record, dict) and record.get("level") in ("error", "critical"):
                last = str(record.get("exception", "")).strip().rsplit("\n", 1)[-1]
                found.append(f"{record.get('message')}: {last}"[:300])
        return found


async def _post(http: Any, url: str, **kwargs: Any) -> Any:
    """POST, retrying server errors (concurrent sign-ups on SQLite got an occasional 500,
    "database is locked", at some revisions)."""
    for attempt in range(8):
        answer = await http.post(url, **kwargs)
        if answer.status_code < 500:
            return answer
        await asyncio.sleep(0.2 * (attempt + 1))
    return answer


def progress(message: str) -> None:
    """A line on stderr: stdout carries only the JSON result."""
    sys.stderr.write(f"[fanout {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _spread(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


# ---------------------------------------------------------------- phases


async def settle_rss(pid: int, *, quiet: float = 2.0, limit: float = 20.0) -> int:
    """RSS once it stops moving (less than 0.5% change over ``quiet`` s), or after ``limit``."""
    deadline = time.monotonic() + limit
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = rss_bytes(pid)
        if abs(now - last) <= 0.005 * last:
            return now
        last = now
    return last


def percentiles(histogram: Counter[int]) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max in ms from a 0.1 ms histogram."""
    total = sum(histogram.values())
    out: dict[str, float | None] = {}
    if not total:
        return {"p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    ordered = sorted(histogram.items())
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
        rank, seen = math.ceil(q * total), 0
        for bucket, count in ordered:
            seen += count
            if seen >= rank:
                out[name] = round((bucket + 1) * BUCKET_NS / 1e6, 1)
                break
    out["max"] = round((ordered[-1][0] + 1) * BUCKET_NS / 1e6, 1)
    return out


def machine_busy_seconds() -> tuple[float, float]:
    """CPU-seconds the whole machine has been busy (all cores, anyone's work) in processes,
    and in softirq (loopback networking, largely ours, charged to no process); /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + steal) / tick, softirq / tick


async def fanout_run(
    fleet: Fleet,
    pid: int,
    group: str,
    *,
    rate: float,
    senders: int,
    seconds: float,
    warmup: float,
    drain: float = 3.0,
    private: dict[str, Any] | None = None,
    watch: Callable[[], int | None] | None = None,
    max_seconds: float | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One timed run over the connections of ``group``; ``watch`` may end it early.

    Returns raw figures (see `summarize`): counts, the latency histogram, CPU seconds of the
    server, of the clients and of the whole machine (so other load on the box shows up).
    """
    start = time.monotonic_ns() + 500_000_000
    t0 = start + int(warmup * 1e9)
    t1 = t0 + int((seconds if max_seconds is None else max_seconds) * 1e9)
    fleet.stop.value = 0
    task = asyncio.ensure_future(
        fleet.everyone(
            "run",
            group=group,
            rate=rate,
            total_senders=senders,
            t_send=start,
            t0=t0,
            t1=t1,
            drain=drain,
            private=private,
        )
    )
    await _sleep_until(t0)
    cpu0, (busy0, soft0), own0 = cpu_seconds(pid), machine_busy_seconds(), time.process_time()
    rss0 = peak = rss_bytes(pid)
    spy = _start_profile(pid, seconds, profile) if profile else None
    seen_at: int | None = None
    while time.monotonic_ns() < t1:
        await asyncio.sleep(min(0.25, max(0.0, (t1 - time.monotonic_ns()) / 1e9)))
        peak = max(peak, rss_bytes(pid))
        if watch is not None and seen_at is None and (seen_at := watch()) is not None:
            # Measure for the planned time and at least 3 s after the event, then stop.
            end = max(t0 + int(seconds * 1e9), seen_at + 3_000_000_000)
            if end < t1:
                t1 = end
                fleet.stop.value = t1
    cpu1, (busy1, soft1), own1 = cpu_seconds(pid), machine_busy_seconds(), time.process_time()
    rss1 = rss_bytes(pid)
    answers = await task
    if spy is not None:
        spy.wait()
    by_second: dict[int, Counter[int]] = {}
    histogram: Counter[int] = Counter()
    gone: dict[str, int] = {}
    first: dict[int, int] = {}
    for answer in answers:
        histogram.update(answer["latency"])
        for sent, took in answer["first"].items():
            first[sent] = min(took, first.get(sent, took))
        for (second, tenth_ms), count in answer["by_second"].items():
            by_second.setdefault(second, Counter())[tenth_ms * 10] += count
        for conn_id, at in answer["gone"].items():
            gone[conn_id] = min(at, gone.get(conn_id, at))
    clients_cpu = sum(a["cpu_seconds"] for a in answers)
    return {
        "window": (t1 - t0) / 1e9,
        "receivers": sum(a["receivers"] for a in answers),
        "sent": sum(a["sent_in_window"] for a in answers),
        "deliveries": sum(a["deliveries"] for a in answers),
        "histogram": histogram,
        "first": Counter(took // BUCKET_NS for took in first.values()),
        "by_second": by_second,
        "frames": sum(a["frames"] for a in answers),
        "bytes": sum(a["bytes"] for a in answers),
        "errors": sum(a["errors"] for a in answers),
        "lost": [tuple(x) for a in answers for x in a["lost"]],
        "server_cpu": cpu1 - cpu0,
        "clients_cpu": clients_cpu,
        # Processes' system time already includes much of the softirq work of their sockets.
        "other_cpu": (busy1 + soft1 - busy0 - soft0) - (cpu1 - cpu0) - clients_cpu - (own1 - own0),
        "softirq_cpu": soft1 - soft0,
        "rss": (rss0, rss1, peak),
        "gone": gone,
        "t_send": start,
    }


def _report(label: str, run: dict[str, Any]) -> None:
    lat = percentiles(run["histogram"])
    progress(
        f"{label}: {run['deliveries'] / run['window']:.0f} deliveries/s, p50 {lat['p50']} ms, "
        f"p99 {lat['p99']} ms, server CPU {run['server_cpu'] / run['window']:.2f}, "
        f"others' CPU {run['other_cpu'] / run['window']:.2f}"
    )


def summarize(runs: list[dict[str, Any]], *, timeline: bool = False) -> dict[str, Any]:
    """Figures over one or more runs of the same server (rounds are interleaved with the
    other server's, so both see the same machine)."""
    window = sum(r["window"] for r in runs)
    deliveries = sum(r["deliveries"] for r in runs)
    sent = sum(r["sent"] for r in runs)
    expected = sum(r["sent"] * r["receivers"] for r in runs)
    server_cpu = sum(r["server_cpu"] for r in runs)
    histogram: Counter[int] = Counter()
    first: Counter[int] = Counter()
    for run in runs:
        histogram.update(run["histogram"])
        first.update(run["first"])
    lost = [x for r in runs for x in r["lost"]]
    figures: dict[str, Any] = {
        "rounds": len(runs),
        "window_s": round(window, 2),
        "receivers": runs[0]["receivers"],
        "messages_sent": sent,
        "send_rate": round(sent / window, 1),
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / window),
        "delivered_fraction": round(deliveries / expected, 5) if expected else None,
        "latency_ms": percentiles(histogram),
        # Each message's fastest delivery: the time spent before fan-out (parse, checks,
        # durable write, publish) plus one socket; the rest of latency_ms is the fan-out.
        "first_delivery_latency_ms": percentiles(first),
        "server_cpu": round(server_cpu / window, 3),
        "deliveries_per_server_cpu_s": round(deliveries / server_cpu) if server_cpu else None,
        "clients_cpu": round(sum(r["clients_cpu"] for r in runs) / window, 3),
        # Other processes on the machine (not this benchmark's): a noisy neighbour shows here.
        "other_cpu_on_machine": round(sum(r["other_cpu"] for r in runs) / window, 3),
        "softirq_cpu": round(sum(r["softirq_cpu"] for r in runs) / window, 3),
        "frames_per_delivery": round(sum(r["frames"] for r in runs) / deliveries, 3)
        if deliveries
        else None,
        "bytes_per_delivery": round(sum(r["bytes"] for r in runs) / deliveries)
        if deliveries
        else None,
        "server_rss_mb": {
            "run_start": _mb(runs[0]["rss"][0]),
            "run_end": _mb(runs[-1]["rss"][1]),
            "run_peak": _mb(max(r["rss"][2] for r in runs)),
        },
        "error_frames": sum(r["errors"] for r in runs),
        "clients_lost": len(lost),
        "lost_close_codes": dict(Counter(str(code) for code, _ in lost)),
    }
    if len(runs) > 1:
        figures["per_round"] = [
            {
                "deliveries_per_s": round(r["deliveries"] / r["window"]),
                "p50_ms": percentiles(r["histogram"])["p50"],
                "p99_ms": percentiles(r["histogram"])["p99"],
                "server_cpu": round(r["server_cpu"] / r["window"], 3),
                "other_cpu_on_machine": round(r["other_cpu"] / r["window"], 3),
            }
            for r in runs
        ]
    if timeline:
        seconds = runs[0]["by_second"]
        figures["latency_by_second_ms"] = [
            [second, percentiles(seconds[second])["p50"], percentiles(seconds[second])["p99"]]
            for second in sorted(seconds)
        ]
    return figures


def _start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy")
    if spy is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [spy, "record", "-p", str(pid), "-d", str(max(1, int(seconds))), *SPY_OPTIONS, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize_profile(path: Path, top: int = 20) -> dict[str, Any]:
    """Where the event loop thread spends its busy time, from py-spy's collapsed stacks.

    Idle samples (waiting in epoll) and other threads (aiosqlite, executors) are left out;
    samples inside the cyclic garbage collector count as "GC"; a native leaf (a syscall,
    uvloop) is charged as "native <- nearest Python function".
    """
    if not path.exists():
        return {}
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("Runner.run" in f or "uv_run" in f for f in frames):
            continue  # not the event loop thread
        if "epoll" in frames[-1]:
            idle += int(count)
            continue
        busy += int(count)
        names = [_frame_name(f) for f in frames]
        if any("gc_collect" in f for f in frames):
            leaf = "GC (cyclic garbage collector)"
        elif ".py:" not in frames[-1]:
            caller = next(
                (n for f, n in zip(frames[::-1], names[::-1], strict=True) if ".py:" in f), "?"
            )
            leaf = f"{names[-1]} <- {caller}"
        else:
            leaf = names[-1]
        own[leaf] += int(count)
        for name in set(names):
            inclusive[name] += int(count)
    if not busy:
        return {}

    def share(counter: Counter[str], limit: float = 100.0) -> dict[str, float]:
        shares = {f: round(100 * n / busy, 1) for f, n in counter.most_common()}
        return dict(list((f, v) for f, v in shares.items() if v < limit)[:top])

    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "self_pct_of_busy": share(own),
        "inclusive_pct_of_busy": share(inclusive, limit=95.0),
    }


def _frame_name(frame: str) -> str:
    """``Class.method (path/file.py:12)`` -> ``Class.method (file.py)``."""
    name, _, where = frame.partition(" (")
    file = where.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"{name} ({file})" if file.endswith(".py") else name


async def _sleep_until(ns: int) -> None:
    await asyncio.sleep(max(0.0, (ns - time.monotonic_ns()) / 1e9))


def _mb(value: int) -> float:
    return round(value / 2**20, 1)


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
            for p in _spread(warm, workers)
        ],
    )
    _check_connected(answers, len(warm), "warm-up")
    base = await settle_rss(pid)
    progress(f"idle: {len(warm)} warm-up connections, RSS {_mb(base)} MiB; adding {len(paths)}")
    started = time.monotonic()
    answers = await fleet.call(
        "connect",
        [
            {"group": "idle", "host": "127.0.0.1", "port": port, "paths": p}
            for p in _spread(paths, workers)
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
        "rss_mb_before": _mb(base),
        "rss_mb_with_idle": _mb(loaded),
        "bytes_per_connection": round((loaded - base) / connected) if connected else None,
    }


def _check_connected(answers: list[dict[str, Any]], wanted: int, what: str) -> None:
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
        s + o
        for s, o in zip(_spread(senders, len(fleet)), _spread(others, len(fleet)), strict=True)
    ]
    answers = await fleet.call(
        "connect", [{"group": group, "host": "127.0.0.1", "port": port, "paths": p} for p in parts]
    )
    _check_connected(answers, len(paths), group)
    return round(time.monotonic() - started, 1)


# ---------------------------------------------------------------- the benchmark


class Bench:
    """The whole run: both servers, the client fleet, the figures."""

    def __init__(self, args: argparse.Namespace, fleet: Fleet, work: Path) -> None:
        self.args = args
        self.fleet = fleet
        env = {"LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000", "LIVECLASS_LOG_LEVEL": "warning"}
        if args.send_queue_bytes:
            env["LIVECLASS_SEND_QUEUE_BYTES"] = str(args.send_queue_bytes)
        if args.gc_tune:
            here = str(Path(__file__).resolve().parent / "gctune")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
            env["LIVECLASS_BENCH_GCTUNE"] = "1"
        env.update(item.split("=", 1) for item in args.server_env)
        self.node = Liveclass(args.root, work / "liveclass", env)
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
                http = httpx.AsyncClient(base_url=node.server.url, timeout=60)
                await node.sign_in(http, args.users, register=True)
                room = await node.create_room(http, "fan-out")
                paths = await node.room_paths(http, room, args.clients, args.senders, args.users)
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
                    _report(f"{name} round {index + 1}/{args.rounds}", run)
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
            "server_rss_mb_before_connect": _mb(before),
            "server_rss_mb_connected": _mb(connected),
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
                for part in _spread([(host_path, True)] * whisperers, len(fleet))
            ],
        )
        _check_connected(answers, whisperers, "private senders")
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
        _check_connected(answers, 1, "stalled client")
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
        _report("liveclass, stall client reading", baseline)
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
        _report("liveclass, stall client stalled", run)
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
            "p99_ratio_with_over_without": _ratio(p99, p99_without),
            "stalled_dropped": dropped is not None,
            "stalled_dropped_after_s": _seconds(dropped, stalled_at),
            "stalled_tcp_reset_seen_after_s": _seconds(lost, stalled_at),
            "send_queue_limit_bytes": args.send_queue_bytes or 1 << 20,
            "drop_cause": _drop_cause(after.get("close_code"), _seconds(dropped, stalled_at)),
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
                async with httpx.AsyncClient(base_url=node.server.url, timeout=60) as http:
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
            room = await node.create_room(http, f"idle {index}")
            first = index * per_room % args.users
            students = (node.students[first:] + node.students[:first])[:per_room]
            paths = [await node.join_path(http, room, t) for t in students]
            warm.append((paths[0], False))
            count = min(args.idle_room_size, args.idle - len(idle))
            idle += [(paths[i % len(paths)], False) for i in range(count)]
        return warm, idle


def _drop_cause(code: int | None, after: float | None) -> str:
    """Why the stalled client was dropped, as far as a client can tell."""
    if after is None:
        return "not dropped"
    if code == 4008:
        return "send queue limit (it read close 4008 once it resumed)"
    if after < KEEPALIVE_PING_INTERVAL:
        # An unanswered ping ends the connection ping_timeout after it was sent, and the
        # first ping after the stall goes out at most ping_interval after it began.
        return "send queue limit (dropped before any keepalive timeout could fire)"
    return "unclear: keepalive timeout or send queue limit"


def _seconds(at: int | None, since: int) -> float | None:
    return round((at - since) / 1e9, 1) if at else None


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 3)


def verdict(ours: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """Ratios (ours / ceiling) and the issue's targets."""
    fan, top = ours.get("fanout", {}), ceiling.get("fanout", {})
    lat, top_lat = fan.get("latency_ms", {}), top.get("latency_ms", {})
    idle = ours.get("idle", {}).get("bytes_per_connection")
    ratios = {
        "deliveries_per_s": _ratio(fan.get("deliveries_per_s"), top.get("deliveries_per_s")),
        "deliveries_per_server_cpu_s": _ratio(
            fan.get("deliveries_per_server_cpu_s"), top.get("deliveries_per_server_cpu_s")
        ),
        "p50_latency": _ratio(lat.get("p50"), top_lat.get("p50")),
        "p99_latency": _ratio(lat.get("p99"), top_lat.get("p99")),
        "idle_bytes_per_connection": _ratio(
            idle, ceiling.get("idle", {}).get("bytes_per_connection")
        ),
    }
    stalled = ours.get("stalled", {})
    p99 = lat.get("p99")
    stalled_p99 = stalled.get("with_stalled_client", {}).get("latency_ms", {}).get("p99")

    def at_least(value: float | None, bound: float) -> bool | None:
        return None if value is None else value >= bound

    def under(value: float | None, bound: float) -> bool | None:
        return None if value is None else value < bound

    targets = {
        "deliveries_at_least_60pct_of_ceiling": at_least(ratios["deliveries_per_s"], 0.6),
        "deliveries_per_cpu_at_least_60pct_of_ceiling": at_least(
            ratios["deliveries_per_server_cpu_s"], 0.6
        ),
        "p99_under_100ms": under(p99, 100),
        "idle_connection_under_30KB": under(idle, 30_000),
        "stalled_client_dropped": stalled.get("stalled_dropped"),
        "p99_with_stalled_client_under_100ms": under(stalled_p99, 100),
    }
    return {"ratios_ours_over_ceiling": ratios, "targets_met": targets}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
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
    import websockets

    return {
        "benchmark": "room fan-out (bench/fanout.py)",
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "uvicorn": uvicorn.__version__,
            "websockets": websockets.__version__,
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
    args = parse_args()
    if args.ceiling_server:
        ceiling_main(args.ceiling_server)
        return
    args.root = args.root.resolve()
    sys.path.insert(0, str(args.root / "tests"))  # liveserver.LiveServer runs the server there
    raise_nofile()
    result = asyncio.run(main_async(args))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
