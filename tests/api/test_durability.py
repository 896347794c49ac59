"""SIGKILL in the middle of registrations loses no account the server acknowledged."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx
import pytest

from kits.nodes import PASSWORD, Node, database_url
from kits.servers import LiveServer, wait_for

pytestmark = pytest.mark.postgres
WRITERS = 6
KILL_AFTER = 60


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_loses_no_acknowledged_account(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, request)
    env = {"LIVECLASS_SECRET_KEY": "k" * 48}
    if url:
        env["LIVECLASS_DATABASE_URL"] = url
    server = LiveServer(data_dir=tmp_path / "data", env=env).start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[str] = []

    def register_forever() -> None:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            while not stop.is_set():
                email = f"k-{uuid.uuid4().hex[:12]}@example.org"
                try:
                    response = client.post(
                        "/api/v1/auth/register",
                        json={"email": email, "password": PASSWORD, "name": "Kill Test"},
                    )
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                    continue
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(email)

    writers = [threading.Thread(target=register_forever) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    try:
        wait_for(lambda: len(acknowledged) >= KILL_AFTER, timeout=120, what="registrations")
        server.kill()
        # Keep writing briefly so requests are genuinely in flight across the kill.
        wait_for(lambda: len(failures) >= WRITERS, timeout=30, what="failed requests")
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert server.process is not None and server.process.returncode == -9
    with lock:
        survivors_expected = list(acknowledged)

    restarted = LiveServer(data_dir=tmp_path / "data", env=env).start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=30.0) as client:
            admin = f"admin-{uuid.uuid4().hex[:8]}@example.org"
            register = client.post(
                "/api/v1/auth/register",
                json={"email": admin, "password": PASSWORD, "name": "Admin"},
            )
            assert register.status_code == 201
        # Promote through the real CLI, then list every account.
        node = Node(restarted, backend, url)
        assert node.cli("create-admin", "--email", admin, "--password", PASSWORD).returncode == 0
        token = node.login(admin)
        stored: set[str] = set()
        with node.client(token) as client:
            offset = 0
            while True:
                page = client.get("/api/v1/users", params={"limit": 200, "offset": offset}).json()
                stored |= {u["email"] for u in page["items"]}
                offset += 200
                if offset >= page["total"]:
                    break
        missing = [e for e in survivors_expected if e not in stored]
        assert not missing, f"{len(missing)} acknowledged accounts lost after SIGKILL"
        # And the accounts work, not just exist.
        assert node.login(survivors_expected[-1])
    finally:
        restarted.stop()
