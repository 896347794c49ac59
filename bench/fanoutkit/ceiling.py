"""The ceiling: a minimal ``websockets`` broadcast server doing the room's chat job."""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import orjson

from fanoutkit.common import ROOT, SCRIPT
from fanoutkit.fleet import raise_nofile, run_loop
from kits.bench import progress


def ceiling_main(port: int) -> None:
    """A minimal websockets broadcast server doing the room's chat job (the Python ceiling)."""
    raise_nofile()
    run_loop(_ceiling(port))


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
        from kits.servers import free_port

        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeilingServer:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--ceiling-server", str(self.port)],
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
