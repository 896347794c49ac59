"""The ``liveclass`` command line run as a real subprocess: migrate, create-admin, demo,
settings validation, the generated secret, graceful SIGTERM and ``python server.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kits.nodes import PASSWORD, Node, start_node
from kits.servers import ROOT, LiveServer, free_port, wait_for
from persistence.migrate import head_revision

DEMO_PASSWORD = "liveclass-demo"


def run_cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m server ARGS`` with a data directory and extra environment."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env={**os.environ, "LIVECLASS_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def cli_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node on the embedded SQLite whose database the CLI commands share."""
    yield from start_node(tmp_path_factory.mktemp("cli"), "sqlite", request)


def role_of(node: Node, token: str) -> str:
    """The role the node reports for the bearer of ``token``."""
    with node.client(token) as client:
        me = client.get("/api/v1/users/me")
    assert me.status_code == 200, me.text
    return str(me.json()["role"])


# ------------------------------------------------------------------ commands


def test_migrate_prints_the_revision_and_is_repeatable(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert f"database at revision {head_revision()}" in first.stdout
    assert (tmp_path / "liveclass.db").exists()
    again = run_cli(tmp_path, "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_create_admin_creates_an_account(cli_node: Node) -> None:
    email = "new-admin@example.org"
    result = cli_node.cli("create-admin", "--email", email, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"created admin {email}"
    token = cli_node.login(email)
    assert role_of(cli_node, token) == "admin"
    with cli_node.client(token) as client:
        assert client.get("/api/v1/users").status_code == 200


def test_create_admin_promotes_an_existing_account_given_its_password(cli_node: Node) -> None:
    email, student_token = cli_node.register("student", email="promote-me@example.org")
    assert role_of(cli_node, student_token) == "student"
    with cli_node.client(student_token) as client:
        assert client.get("/api/v1/users").status_code == 403
    result = cli_node.cli("create-admin", "--email", email, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"promoted to admin {email}"
    assert role_of(cli_node, cli_node.login(email, PASSWORD)) == "admin"
    assert role_of(cli_node, student_token) == "admin"  # promoting signs nobody out


def test_create_admin_refuses_another_password_for_an_existing_account(cli_node: Node) -> None:
    email, token = cli_node.register("student", email="keep-my-password@example.org")
    result = cli_node.cli("create-admin", "--email", email, "--password", "another-password")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "already exists" in result.stderr and "nothing was changed" in result.stderr
    assert "--reset-password" in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing changed: the role, the password, the session.
    assert role_of(cli_node, token) == "student"
    assert role_of(cli_node, cli_node.login(email, PASSWORD)) == "student"


def test_create_admin_reset_password_sets_it_and_ends_every_session(cli_node: Node) -> None:
    email, token = cli_node.register("student", email="forgot-it@example.org")
    with cli_node.client() as client:
        pair = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert pair.status_code == 200, pair.text
    new_password = "a-brand-new-password"
    result = cli_node.cli(
        "create-admin", "--email", email, "--password", new_password, "--reset-password"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"reset the password of {email}, ended its sessions and made it an admin"
    )
    with cli_node.client(token) as client:
        assert client.get("/api/v1/users/me").status_code == 401
    with cli_node.client() as client:
        refresh = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair.json()["refresh_token"]}
        )
        assert refresh.status_code == 401
        old = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert old.status_code == 401
    assert role_of(cli_node, cli_node.login(email, new_password)) == "admin"


def test_create_admin_reset_password_checks_the_new_password(cli_node: Node) -> None:
    email, token = cli_node.register("student", email="weak-reset@example.org")
    result = cli_node.cli("create-admin", "--email", email, "--password", "x", "--reset-password")
    assert result.returncode == 1
    assert "password" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert role_of(cli_node, token) == "student"


def test_create_admin_rejects_a_weak_password_readably(cli_node: Node) -> None:
    result = cli_node.cli("create-admin", "--email", "weak@example.org", "--password", "x")
    assert result.returncode != 0
    assert "password" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_demo_creates_accounts_that_can_sign_in(cli_node: Node) -> None:
    result = cli_node.cli("demo")
    assert result.returncode == 0, result.stderr
    accounts = [line.split()[:2] for line in result.stdout.splitlines() if DEMO_PASSWORD in line]
    roles = {role for role, _ in accounts}
    assert roles == {"instructor", "student"}
    assert len(accounts) >= 2
    for role, email in accounts:
        assert role_of(cli_node, cli_node.login(email, DEMO_PASSWORD)) == role
    again = cli_node.cli("demo")
    assert again.returncode == 0, again.stderr
    # The demo course has content a student can start on: Week 1 open, Week 2 locked.
    student = next(email for role, email in accounts if role == "student")
    with cli_node.client(cli_node.login(student, DEMO_PASSWORD)) as client:
        courses = client.get("/api/v1/courses").json()["items"]
        course = next(c for c in courses if c["code"] == "DEMO-101")
        content = client.get(f"/api/v1/courses/{course['id']}/content").json()
        assert [(m["title"], m["locked"]) for m in content["modules"]] == [
            ("Week 1", False),
            ("Week 2", True),
        ]
        page_id = content["modules"][0]["items"][0]["target_id"]
        page = client.get(f"/api/v1/pages/{page_id}").json()
        assert "<h1>Welcome</h1>" in page["html"]


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LIVECLASS_DATABASE_URL", "mysql://x"),
        ("LIVECLASS_SECRET_KEY", "short"),
        ("LIVECLASS_ACCESS_TOKEN_TTL_SECONDS", "abc"),
        ("LIVECLASS_MAX_REQUEST_BYTES", "-1"),
        ("LIVECLASS_LOG_LEVEL", "chatty"),
        ("LIVECLASS_REDIS_URL", "http://cache:6379"),
        ("LIVECLASS_REFRESH_TOKEN_TTL_SECONDS", "600"),
    ],
)
def test_invalid_setting_stops_serve_with_a_clear_message(
    tmp_path: Path, variable: str, value: str
) -> None:
    extra = {variable: value}
    if variable == "LIVECLASS_REFRESH_TOKEN_TTL_SECONDS":
        extra["LIVECLASS_ACCESS_TOKEN_TTL_SECONDS"] = "900"
    result = run_cli(tmp_path, "serve", "--port", str(free_port()), **extra)
    assert result.returncode != 0
    assert variable in result.stderr
    assert "invalid settings" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_stops_every_command(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "migrate", LIVECLASS_DATABASE_URL="mysql://x")
    assert result.returncode != 0
    assert "LIVECLASS_DATABASE_URL" in result.stderr
    assert not (tmp_path / "liveclass.db").exists()


# -------------------------------------------------------------------- secret


def test_generated_secret_is_private_and_survives_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"LIVECLASS_SECRET_KEY": ""}  # unset: the node must generate one
    first = LiveServer(data_dir=data, env=env).start()
    try:
        secret_file = data / "secret_key"
        assert secret_file.exists()
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text()
        assert len(secret.strip()) >= 32
        node = Node(first, "sqlite", "")
        _, token = node.register()
        assert role_of(node, token) == "student"
    finally:
        assert first.stop() == 0

    second = LiveServer(data_dir=data, env=env).start()
    try:
        node = Node(second, "sqlite", "")
        assert role_of(node, token) == "student"
        assert secret_file.read_text() == secret
    finally:
        second.stop()


# ------------------------------------------------------------ data directory


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_commands_create_a_private_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    result = run_cli(data, "migrate")
    assert result.returncode == 0, result.stderr
    assert mode_of(data) == 0o700
    assert mode_of(data / "liveclass.db") == 0o600
    assert mode_of(data / "secret_key") == 0o600


def test_serve_keeps_the_data_directory_private_and_says_where_it_is(tmp_path: Path) -> None:
    """An older version's data directory (0755, database 0644) is closed to others on start;
    every file the node creates from then on (WAL, recordings, ...) is its owner's alone."""
    data = tmp_path / "data"
    assert run_cli(data, "migrate").returncode == 0
    data.chmod(0o755)
    (data / "liveclass.db").chmod(0o644)
    server = LiveServer(data_dir=data, env={"LIVECLASS_LOG_LEVEL": "info"}).start()
    try:
        node = Node(server, "sqlite", "")
        node.register()  # a write: the WAL and shared-memory files exist now
        assert mode_of(data) == 0o700
        for name in ("liveclass.db", "liveclass.db-wal", "liveclass.db-shm", "secret_key"):
            assert mode_of(data / name) == 0o600, name
        assert server.process is not None
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        assert "Umask:\t0077" in status
    finally:
        assert server.stop() == 0
    lines = server.log().splitlines()
    assert f"liveclass data directory: {data.resolve()}" in lines  # stdout
    logged = [json.loads(x) for x in lines if x.startswith("{")]
    assert any(e.get("data_dir") == str(data.resolve()) for e in logged)
    assert any("was open to other users" in e["message"] for e in logged)


# ----------------------------------------------------------------- processes


def test_sigterm_stops_the_node_cleanly(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path, env={"LIVECLASS_LOG_LEVEL": "info"}).start()
    try:
        assert httpx.get(server.url + "/readyz").status_code == 200
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    assert "liveclass node stopped" in server.log()
    assert "Traceback" not in server.log()


@contextlib.contextmanager
def script_server(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run ``python server.py serve`` on a free port; yield the process and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data_dir / "script.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "server.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "LIVECLASS_DATA_DIR": str(data_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()

    def healthy() -> bool:
        assert process.poll() is None, (data_dir / "script.log").read_text()
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=30, what="python server.py serve")
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)


def test_python_server_py_serve_works_like_liveclass_serve(tmp_path: Path) -> None:
    with script_server(tmp_path) as (process, url):
        assert httpx.get(url + "/readyz").json()["checks"]["database"] == "ok"
        registered = httpx.post(
            url + "/api/v1/auth/register",
            json={"email": "script@example.org", "password": PASSWORD, "name": "Script"},
        )
        assert registered.status_code == 201, registered.text
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    assert (tmp_path / "liveclass.db").exists()


def test_sigterm_reports_draining_before_it_stops_serving(tmp_path: Path) -> None:
    server = LiveServer(
        data_dir=tmp_path / "data",
        env={"LIVECLASS_SECRET_KEY": "d" * 48, "LIVECLASS_SHUTDOWN_DELAY_SECONDS": "3"},
    ).start()
    try:
        assert httpx.get(server.url + "/readyz").status_code == 200
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        statuses: list[dict[str, object]] = []

        def draining() -> bool:
            response = httpx.get(server.url + "/readyz", timeout=2)
            statuses.append(response.json())
            return response.status_code == 503

        wait_for(draining, timeout=5, what="/readyz to report draining")
        assert statuses[-1]["status"] == "draining"
        # Still serving other requests while draining.
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
