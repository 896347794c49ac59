"""The liveclass node under test: start, accounts, rooms and join tokens."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from fanoutkit.common import progress

PASSWORD = "bench-password-1234"
ADMIN_EMAIL = "admin@bench.liveclass"
CREDENTIALS = ("--email", ADMIN_EMAIL, "--password", PASSWORD)


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
        from kits.servers import LiveServer

        self.server = LiveServer(self.data_dir, env=dict(self.env), root=self.root).start(
            timeout=60
        )
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
                answer = await post(
                    http, "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        async def student(i: int) -> str:
            email = f"student{i}@bench.liveclass"
            if register:
                async with gate:
                    answer = await post(
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
        answer = await post(
            http,
            "/api/v1/rooms",
            json={"title": title, "open": True, "max_participants": 10_000},
            headers=bearer(self.admin_token),
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    async def join_path(self, http: Any, room_id: str, access_token: str) -> str:
        answer = await post(http, f"/api/v1/rooms/{room_id}/join", headers=bearer(access_token))
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


async def post(http: Any, url: str, **kwargs: Any) -> Any:
    """POST, retrying server errors (concurrent sign-ups on SQLite got an occasional 500,
    "database is locked", at some revisions)."""
    for attempt in range(8):
        answer = await http.post(url, **kwargs)
        if answer.status_code < 500:
            return answer
        await asyncio.sleep(0.2 * (attempt + 1))
    return answer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
