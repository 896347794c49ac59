"""What every benchmark shares: the liveclass node under test with its admin and students,
progress lines on stderr and nearest-rank percentiles (CPU and memory: ``kits.stats``).

``BenchNode`` is a ``kits.servers.LiveServer`` plus the accounts a workload needs: an admin
(``liveclass create-admin``, once per node) whose access token opens rooms, and students
registered on demand. Its REST helpers are blocking (``httpx.Client``); ``sign_in``,
``create_room_async`` and ``join_path`` are the asynchronous ones for many accounts at once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import httpx
import orjson

from kits.servers import ROOT, LiveServer

PASSWORD = "bench-password-1234"
ADMIN_EMAIL = "admin@bench.liveclass"


def spawn_ready(
    command: Sequence[str],
    env: Mapping[str, str],
    count: int,
    logs: Path,
    *,
    ready: bytes = b"started",
    cwd: Path = ROOT,
    timeout: float = 120.0,
) -> list[subprocess.Popen[bytes]]:
    """``count`` processes of ``command``, each past its start-up (``ready`` in its output)
    on return: a worker still importing would have its start-up counted as the work it is
    measured on (~6 CPU-s for ``liveclass worker`` on a loaded machine)."""
    processes, paths = [], []
    for i in range(count):
        path = logs / f"worker-{time.monotonic_ns()}-{i}.log"
        with path.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    list(command), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT
                )
            )
        paths.append(path)
    deadline = time.monotonic() + timeout
    for process, path in zip(processes, paths, strict=True):
        while ready not in path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{path.read_text(errors='replace')}")
            time.sleep(0.05)
    return processes


WORKER_COMMAND = (sys.executable, "-m", "server", "worker")
"""``liveclass worker``; it prints a line with "started" once its jobs run."""


def progress(message: str) -> None:
    """A line on stderr, tagged with the benchmark's name: stdout carries only the JSON."""
    name = Path(sys.argv[0]).stem or "bench"
    sys.stderr.write(f"[{name} {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def percentile(values: Sequence[float], q: float, *, scale: float = 1.0) -> float | None:
    """The nearest-rank ``q`` quantile of ``values`` divided by ``scale``, two decimals
    (None when there are no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / scale, 2)


def student_email(index: int) -> str:
    return f"student{index}@bench.liveclass"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class BenchNode:
    """A liveclass node for a benchmark, with an admin and students (see the module doc)."""

    def __init__(
        self,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        *,
        root: Path = ROOT,
        name: str = "liveclass",
        admin: bool = True,
    ) -> None:
        self.name = name
        self.server = LiveServer(data_dir=data_dir, env=dict(env or {}), root=root)
        self.http = httpx.Client(timeout=60)
        self.admin_token = ""
        self.students: list[str] = []  # access tokens (``sign_in``)
        self.loner = ""  # one more student's access token, for a client nobody shares
        self.wants_admin = admin  # a node of a cluster shares the first node's database
        self._admin = not admin  # True once the admin exists (or when none is wanted)
        self._registered: set[int] = set()

    # ------------------------------------------------------------------ the process

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return self.server.ws_url

    def start(self, *, timeout: float = 60.0) -> Self:
        """Start the node (again, on the same data directory), the admin created the first
        time; the admin is signed in for the blocking helpers."""
        self.server.start(timeout=timeout)
        self.create_admin()
        self.http.close()
        self.http = httpx.Client(base_url=self.url, timeout=60)
        if self.wants_admin:
            self.admin_token = self.login(ADMIN_EMAIL)
        progress(f"{self.name} node: pid {self.pid}, port {self.port}")
        return self

    def stop(self, keep_log: Path | None = None) -> None:
        """Stop the node, copying its log into ``keep_log`` when given."""
        self.http.close()
        self.server.stop()
        log = self.server.log_path
        if keep_log is not None and log is not None:
            keep_log.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, keep_log / log.name)

    def restart(self) -> None:
        """Stop and start on the same data directory (a cold start)."""
        self.server.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_admin(self) -> None:
        """``liveclass create-admin`` on this node's database (once)."""
        if self._admin:
            return
        env = {**os.environ, "LIVECLASS_DATA_DIR": str(self.server.data_dir), **self.server.env}
        command = [sys.executable, "-m", "server", "create-admin", "--email", ADMIN_EMAIL]
        done = subprocess.run(
            [*command, "--password", PASSWORD],
            cwd=self.server.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"create-admin failed: {done.stderr}")
        self._admin = True

    def log_errors(self) -> list[str]:
        """Error records the node logged so far: message and the exception's last line."""
        found = []
        for line in self.server.log().splitlines():
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

    # ------------------------------------------------------------------ blocking REST

    def login(self, email: str) -> str:
        """An access token for ``email``."""
        got = self.http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        got.raise_for_status()
        return str(got.json()["access_token"])

    def student(self, index: int) -> str:
        """Student ``index``'s access token, registering the account the first time."""
        email = student_email(index)
        if index not in self._registered:
            body = {"email": email, "password": PASSWORD, "name": f"Student {index}"}
            got = self.http.post("/api/v1/auth/register", json=body)
            if got.status_code != 409:
                got.raise_for_status()
            self._registered.add(index)
        return self.login(email)

    def create_room(self, title: str, **settings: Any) -> str:
        """A room the admin hosts (``open`` unless said otherwise); its id."""
        body = {"title": title, "open": True, **settings}
        got = self.http.post("/api/v1/rooms", json=body, headers=bearer(self.admin_token))
        got.raise_for_status()
        return str(got.json()["id"])

    def join(self, room_id: str, access_token: str = "") -> dict[str, Any]:
        """The join answer (token, documents...) for the admin or ``access_token``'s owner."""
        headers = bearer(access_token or self.admin_token)
        got = self.http.post(f"/api/v1/rooms/{room_id}/join", headers=headers)
        got.raise_for_status()
        found: dict[str, Any] = got.json()
        return found

    # ------------------------------------------------------------------ asynchronous REST

    async def sign_in(self, http: httpx.AsyncClient, users: int, *, register: bool) -> None:
        """Tokens for the admin, ``users`` students and the loner (registering them first if
        asked), a few at a time: argon2 is the cost."""
        gate = asyncio.Semaphore(4)

        async def token(email: str) -> str:
            async with gate:
                answer = await post(
                    http, "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        async def student(i: int) -> str:
            email = student_email(i)
            if register:
                body = {"email": email, "password": PASSWORD, "name": f"Student {i}"}
                async with gate:
                    answer = await post(http, "/api/v1/auth/register", json=body)
                if answer.status_code != 409:
                    answer.raise_for_status()
            return await token(email)

        self.admin_token = await token(ADMIN_EMAIL)
        # The last account is kept for the stalled client: nobody else connects as it.
        *self.students, self.loner = await asyncio.gather(*(student(i) for i in range(users + 1)))

    async def create_room_async(self, http: httpx.AsyncClient, title: str, **settings: Any) -> str:
        body = {"title": title, "open": True, **settings}
        answer = await post(http, "/api/v1/rooms", json=body, headers=bearer(self.admin_token))
        answer.raise_for_status()
        return str(answer.json()["id"])

    async def join_path(self, http: httpx.AsyncClient, room_id: str, access_token: str) -> str:
        """The room channel's path and query for ``access_token``'s owner."""
        answer = await post(http, f"/api/v1/rooms/{room_id}/join", headers=bearer(access_token))
        answer.raise_for_status()
        return f"/ws/rooms/{room_id}?token={answer.json()['token']}"


async def post(http: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    """POST, retrying server errors (concurrent sign-ups on SQLite got an occasional 500,
    "database is locked", at some revisions)."""
    for attempt in range(8):
        answer = await http.post(url, **kwargs)
        if answer.status_code < 500:
            return answer
        await asyncio.sleep(0.2 * (attempt + 1))
    return answer
