"""Test kit for collaborative documents: a classroom on a real node, the Node harness of
stock Yjs clients, and a raw y-websocket client in Python for misbehaving on purpose."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pycrdt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kits.nodes import Node
from kits.rooms import Person, create_room, invite, join_token, register, rest, ws_base
from kits.servers import ROOT
from realtime.yjs.messages import (
    Awareness,
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)

TIMEOUT = 30.0
"""Seconds to wait for something that must happen (a liveness bound, not a timing check)."""

HARNESS = ROOT / "tests" / "node" / "yjs_harness.cjs"

# Small caps so the limits are cheap to reach in tests.
DOC_ENV = {
    "LIVECLASS_YJS_COMPACT_THRESHOLD": "20",
    "LIVECLASS_YJS_MAX_UPDATE_BYTES": "65536",
    "LIVECLASS_YJS_MAX_DOCUMENT_BYTES": "262144",
    "LIVECLASS_YJS_MAX_AWARENESS_BYTES": "4096",
    "LIVECLASS_YJS_IDLE_UNLOAD_SECONDS": "0.5",
}


# ------------------------------------------------------------------ a classroom


@dataclass
class Classroom:
    """A room on a node with a host, two participants and an observer."""

    node: Node
    room_id: str
    host: Person
    students: list[Person]
    observer: Person

    def doc(self, kind: str = "notes") -> str:
        return f"rooms/{self.room_id}/{kind}"

    @property
    def yjs_url(self) -> str:
        return ws_base(self.node) + "/yjs"

    async def token(self, person: Person) -> str:
        return await join_token(self.node, person, self.room_id)

    async def patch(self, **settings: Any) -> None:
        response = await rest(
            self.node, self.host, "PATCH", f"/api/v1/rooms/{self.room_id}", json=settings
        )
        assert response.status_code == 200, response.text


async def classroom(node: Node, *, students: int = 2, **settings: Any) -> Classroom:
    """Create a room hosted by an instructor, open to students, with an invited observer."""
    host = register(node, "instructor")
    people = [register(node) for _ in range(students)]
    observer = register(node)
    room_id = await create_room(node, host, open=True, **settings)
    await invite(node, host, room_id, observer, "observer")
    return Classroom(node, room_id, host, people, observer)


# ------------------------------------------------------------------ stock clients in Node


class NodeClients:
    """The Node harness (`tests/node/yjs_harness.cjs`): stock WebsocketProviders, one
    process, driven by JSON lines. Every call waits for the harness's answer."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (ROOT / "node_modules" / "y-websocket").is_dir():
            pytest.skip("Node.js and `npm ci` (yjs, y-websocket, ws) are needed")
        self.process = subprocess.Popen(
            [node, str(HARNESS)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ids = itertools.count(1)
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(json.loads(line))
        self._answers.put({"id": None, "ok": False, "error": "the Node harness exited"})

    def call(self, op: str, **args: Any) -> Any:
        """Run one harness operation; raise AssertionError with the harness's error."""
        command_id = next(self._ids)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": command_id, "op": op, **args}) + "\n")
        self.process.stdin.flush()
        timeout = float(args.get("timeout", TIMEOUT * 1000)) / 1000 + 30
        while True:
            answer = self._answers.get(timeout=timeout)
            if answer["id"] in (command_id, None):
                break
        if not answer["ok"]:
            raise AssertionError(answer["error"])
        return answer["result"]

    async def acall(self, op: str, **args: Any) -> Any:
        """`call` without blocking the test's event loop."""
        return await asyncio.to_thread(self.call, op, **args)

    def open(self, client: str, room: Classroom, token: str, kind: str = "notes", **kw: Any) -> Any:
        return self.call(
            "open", client=client, url=room.yjs_url, room=room.doc(kind), token=token, **kw
        )

    def wait(self, client: str, timeout: float = TIMEOUT, **until: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "wait", client=client, until=until, timeout=int(timeout * 1000)
        )
        return result

    def state(self, client: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("state", client=client)
        return result

    def close(self) -> None:
        """Destroy every client and end the harness."""
        if self.process.poll() is None:
            with contextlib.suppress(AssertionError, queue.Empty, BrokenPipeError, OSError):
                self.call("exit")
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL the harness: its clients vanish without a word."""
        self.process.kill()
        self.process.wait(10)


def text_of_update(encoded: str) -> str:
    """The notes text held by a base64 Yjs update (a harness client's state)."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(base64.b64decode(encoded))
    return str(doc.get("notes", type=pycrdt.Text))


# ------------------------------------------------------------------ a raw client in Python


@dataclass
class RawClient:
    """A y-websocket client written against the protocol, able to send anything."""

    ws: ClientConnection
    doc: pycrdt.Doc[Any] = field(default_factory=pycrdt.Doc)
    messages: list[Message] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, node: Node, name: str, token: str, *, sync: bool = True) -> RawClient:
        url = f"{ws_base(node)}/yjs/{name}?{urlencode({'token': token})}"
        ws = await connect(url, open_timeout=TIMEOUT, compression=None, max_size=None)
        client = cls(ws)
        client._reader = asyncio.create_task(client._read())
        if sync:
            await client.send(encode_sync_step1(client.doc.get_state()))
            await client.until(lambda c: any(isinstance(m, SyncStep2) for m in c.messages))
        return client

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                assert isinstance(frame, bytes), "the server sends binary frames only"
                message = decode_message(frame, max_size=1 << 30)
                self.messages.append(message)
                if isinstance(message, SyncStep1):
                    await self.ws.send(encode_sync_step2(self.doc.get_update(message.state_vector)))
                elif isinstance(message, SyncStep2 | SyncUpdate):
                    self.doc.apply_update(message.update)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            self._changed.set()

    async def send(self, frame: bytes | str) -> None:
        await self.ws.send(frame)

    async def insert(self, text: str) -> None:
        """Edit the local document and send the update, as a provider would."""
        notes = self.doc.get("notes", type=pycrdt.Text)
        before = self.doc.get_state()
        notes += text
        await self.send(encode_sync_update(self.doc.get_update(before)))

    async def change(self, edit: Callable[[pycrdt.Doc[Any]], None]) -> None:
        """Run `edit` on the local document in one transaction and send the update."""
        before = self.doc.get_state()
        with self.doc.transaction():
            edit(self.doc)
        await self.send(encode_sync_update(self.doc.get_update(before)))

    @property
    def text(self) -> str:
        return str(self.doc.get("notes", type=pycrdt.Text))

    def awareness(self) -> list[Awareness]:
        return [m for m in self.messages if isinstance(m, Awareness)]

    async def until(self, predicate: Callable[[RawClient], bool]) -> None:
        """Wait until `predicate(self)` holds (or fail after `TIMEOUT`)."""
        async with asyncio.timeout(TIMEOUT):
            while not predicate(self):
                if self.close_code is not None and not predicate(self):
                    raise AssertionError(
                        f"closed {self.close_code} {self.close_reason!r} while waiting"
                    )
                self._changed.clear()
                await self._changed.wait()

    async def closed(self) -> tuple[int | None, str]:
        """Wait for the server to close the socket; return (code, reason)."""
        assert self._reader is not None
        async with asyncio.timeout(TIMEOUT):
            await asyncio.shield(self._reader)
        return self.close_code, self.close_reason

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=TIMEOUT)
