"""The client processes of the fan-out benchmark: each holds connections and sends on command."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import secrets
import time
from collections.abc import Callable, Coroutine, Iterable
from multiprocessing.connection import Connection
from typing import Any

from fanoutkit.wsclient import Stats, WSClient, open_client


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
    run_loop(Worker(pipe, stop).serve())


def run_loop(coro: Coroutine[Any, Any, None]) -> None:
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
