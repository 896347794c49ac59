"""Test kit for labs: a lab's body, a course with an instructor, a TA, three learners and an
outsider on a real node, a learner's workspace on the Yjs channel and a lab feed socket."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pycrdt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kits.nodes import Node
from kits.rooms import ws_base
from kits.yjs import TIMEOUT, RawClient

ADD = "def add(a, b):\n    pass\n"
RIGHT = "def add(a, b):\n    return a + b\n"


def lab_body(**fields: Any) -> dict[str, Any]:
    """A lab with two steps on main.py and a notes file."""
    body = {
        "title": "Adding numbers",
        "instructions": "# Add\n\nWrite `add(a, b)`. <script>alert(1)</script>",
        "files": [{"name": "main.py", "text": ADD}, {"name": "notes.md", "text": "notes"}],
        "steps": [
            {
                "id": "add",
                "title": "Add two numbers",
                "body": "Make `add(1, 2)` return 3.",
                "points": 3,
                "tests": [{"id": "t1", "name": "small", "source": "assert add(1, 2) == 3"}],
            },
            {
                "id": "big",
                "title": "Big numbers",
                "file": "main.py",
                "points": 2,
                "tests": [
                    {"id": "t2", "name": "big", "source": "assert add(10**20, 1) == 10**20 + 1"}
                ],
            },
        ],
    }
    return body | fields


class LabCourse:
    """A course with an instructor, a TA, three learners and an outsider."""

    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        ta_email, self.ta = node.register()
        self.learners: list[str] = []
        emails: list[tuple[str, str]] = [(ta_email, "ta")]
        for _ in range(3):
            email, token = node.register()
            self.learners.append(token)
            emails.append((email, "student"))
        _, self.outsider = node.register()
        body = {"code": f"L-{uuid.uuid4().hex[:8]}", "title": "Python"}
        self.id = self.call(self.teacher, "POST", "/api/v1/courses", json=body)["id"]
        for email, role in emails:
            self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": role},
            )
        self.ids = [self.call(t, "GET", "/api/v1/users/me")["id"] for t in self.learners]

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def lab(self, **fields: Any) -> dict[str, Any]:
        path = f"/api/v1/courses/{self.id}/labs"
        return dict(self.call(self.teacher, "POST", path, json=lab_body(**fields)))

    def started(self, **fields: Any) -> dict[str, Any]:
        lab = self.lab(**fields)
        self.call(self.teacher, "POST", f"/api/v1/labs/{lab['id']}/start")
        return lab


MAIN = "file:main.py"


def main_of(client: RawClient) -> str:
    return str(client.doc.get(MAIN, type=pycrdt.Text))


async def write_main(client: RawClient, text: str) -> None:
    def edit(doc: pycrdt.Doc[Any]) -> None:
        main = doc.get(MAIN, type=pycrdt.Text)
        main.clear()
        main.insert(0, text)

    await client.change(edit)


async def open_mine(course: LabCourse, lab: dict[str, Any], learner: str) -> RawClient:
    editor = course.call(learner, "POST", f"/api/v1/labs/{lab['id']}/workspace")
    client = await RawClient.open(course.node, editor["document"], editor["token"])
    await client.until(lambda c: main_of(c) != "")
    return client


class Feed:
    """A lab feed socket collecting its JSON messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, course: LabCourse, lab_id: str, token: str, *, node: Node | None = None
    ) -> Feed:
        """The feed of ``token``'s holder, on ``node`` (the course's by default)."""
        on = node or course.node
        with on.client(token) as client:
            out = client.post(f"/api/v1/labs/{lab_id}/feed")
        assert out.status_code == 200, out.text
        ws = await connect(ws_base(on) + out.json()["url"], open_timeout=TIMEOUT)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.messages.append(json.loads(frame))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self._changed.set()

    async def until(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for message in self.messages:
                    if found(message):
                        return message
                if self.close_code is not None:
                    raise AssertionError(f"feed closed {self.close_code}")
                self._changed.clear()
                await self._changed.wait()

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait([self._task], timeout=TIMEOUT)
