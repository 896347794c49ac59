"""Live liveclass nodes for tests: start one on SQLite or PostgreSQL, register and sign in.

``start_node`` is a generator the fixtures ``yield from``; ``Node`` is what a test holds:
the server, its backend, and helpers to make accounts and call the API as them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kits.sandbox import shared_cache
from kits.servers import ROOT, LiveServer, PostgresServer, copy_migrated_sqlite
from persistence.engine import create_engine, create_sessionmaker
from persistence.models.accounts import User

PASSWORD = "correct-horse-battery"
"""The password of every account the kits register."""
_counter = itertools.count()


def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh database of ``backend`` ("" means the node's embedded SQLite)."""
    if backend == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("pg_server")
    url = server.create_database(migrated=True)
    request.addfinalizer(lambda: server.drop_database(url))
    return url


@dataclass
class Node:
    """A running liveclass node plus what tests need to talk to it."""

    server: LiveServer
    backend: str
    database_url: str
    _admin_token: str | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def client(
        self, token: str | None = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Client:
        """An HTTP client for the node, authenticated when ``token`` is given."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``liveclass ARGS`` against this node's data directory and database."""
        env = {**os.environ, "LIVECLASS_DATA_DIR": str(self.server.data_dir), **self.server.env}
        return subprocess.run(
            [sys.executable, "-m", "server", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def register(self, role: str = "student", *, email: str | None = None) -> tuple[str, str]:
        """Create an account with ``role``; return (email, access token)."""
        email = email or f"user{next(_counter)}-{os.getpid()}@example.org"
        with self.client() as client:
            created = client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "name": f"Test {role}"},
            )
            assert created.status_code == 201, created.text
        if role == "admin":
            self.promote_to_admin(email)
        elif role != "student":
            self.set_role(email, role)
        return email, self.login(email)

    def promote_to_admin(self, email: str) -> None:
        """Make an existing account an admin in the node's database, as ``liveclass
        create-admin`` does for an existing account, without starting that command's process
        (seconds of imports each time; tests/cli runs the command itself)."""

        async def promote() -> int:
            async with node_sessions(self) as sessions, sessions() as session:
                changed = await session.execute(
                    update(User).where(User.email == email.strip().lower()).values(role="admin")
                )
                await session.commit()
                return int(changed.rowcount)  # type: ignore[attr-defined]

        # A thread of its own: the caller may be a test running in an event loop.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, promote()).result() == 1, f"no account {email}"

    def login(self, email: str, password: str = PASSWORD) -> str:
        """Sign in and return an access token."""
        with self.client() as client:
            response = client.post(
                "/api/v1/auth/token", data={"username": email, "password": password}
            )
            assert response.status_code == 200, response.text
            return str(response.json()["access_token"])

    def admin_token(self) -> str:
        """A token of an admin of this node, created on first use and renewed before it
        expires (a module's node can outlive one access token on a slow machine)."""
        if self._admin_token is None or _expires_soon(self._admin_token):
            self._admin_token = self.register("admin")[1]
        return self._admin_token

    def user_id(self, email: str) -> str:
        """The id of the account with ``email`` (looked up by an admin)."""
        with self.client(self.admin_token()) as client:
            found = client.get("/api/v1/users", params={"q": email}).json()["items"]
            return str(next(u["id"] for u in found if u["email"] == email))

    def set_role(self, email: str, role: str) -> None:
        """Give the account a platform role, as an admin would."""
        with self.client(self.admin_token()) as client:
            changed = client.patch(f"/api/v1/users/{self.user_id(email)}", json={"role": role})
            assert changed.status_code == 200, changed.text


def _expires_soon(token: str) -> bool:
    """Whether a JWT's `exp` is less than two minutes away (its signature is not checked)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return float(claims.get("exp", 0)) - time.time() < 120


def start_node(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, **env: str
) -> Iterator[Node]:
    """Start a node on ``backend`` and stop it after the test (or module)."""
    url = database_url(backend, request)
    cache = shared_cache(request.getfixturevalue("tmp_path_factory"))
    settings = {
        "LIVECLASS_SANDBOX_CACHE_DIR": str(cache),  # compiled once per session, not per node
        "LIVECLASS_SECRET_KEY": "t" * 48,
        "LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000",
        "LIVECLASS_LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000",
        **env,
    }
    if url:
        settings["LIVECLASS_DATABASE_URL"] = url
    else:
        copy_migrated_sqlite(tmp_path / "data" / "liveclass.db")
    server = LiveServer(data_dir=tmp_path / "data", env=settings).start()
    try:
        yield Node(server, backend, url)
    finally:
        server.stop()


@asynccontextmanager
async def node_sessions(node: Node) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the node's own database (to run a domain's service function or a job's
    function as the node would)."""
    database = node.server.data_dir.resolve() / "liveclass.db"
    url = (
        node.database_url
        or node.server.env.get("LIVECLASS_DATABASE_URL")
        or f"sqlite+aiosqlite:///{database}"
    )
    engine = create_engine(url, pool_size=2, busy_timeout_ms=60_000)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
