"""A bare RFC 6455 client for the fan-out benchmark: counts and times what a server fans out."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import socket
import time
from collections import Counter

TS = re.compile(rb'"text":"ts:(\d+)')
GONE = re.compile(rb'"presence\.disconnected".*?"conn_id":"([0-9a-f]+)"')
YOU = re.compile(rb'"you":\{"user_id":"([^"]+)"[^{}]*?"conn_id":"([0-9a-f]+)"')
BUCKET_NS = 100_000
"""Latency histogram resolution: 0.1 ms."""


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
        self.transport.write(
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
