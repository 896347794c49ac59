"""Real servers for tests and benchmarks: liveclass nodes, PostgreSQL and Redis on free ports."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
"""The liveclass tree these kits belong to."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class ServiceUnavailable(RuntimeError):
    """A service the test needs could not be started or reached."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: object, *, timeout: float, what: str) -> None:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise ServiceUnavailable(f"timed out waiting for {what}")


FORK_NODES = os.environ.get("LIVECLASS_TEST_NODE_FORK", "1") != "0"
"""Start nodes from the fork server (``kits.nodefork``); ``LIVECLASS_TEST_NODE_FORK=0``
starts each as its own ``python -m server serve`` instead."""


class _ForkServer:
    """This process's connection to its ``kits.nodefork`` process (started on first use)."""

    _current: _ForkServer | None = None

    def __init__(self) -> None:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kits.nodefork"],
            cwd=ROOT / "tests",
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()
        atexit.register(self.close)

    @classmethod
    def get(cls) -> _ForkServer:
        """The running fork server, started again if it is gone."""
        if cls._current is None or cls._current.process.poll() is not None:
            cls._current = cls()
        return cls._current

    def ask(self, request: dict[str, object]) -> dict[str, object]:
        """One request and its answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise ServiceUnavailable("the node fork server exited")
        answer: dict[str, object] = json.loads(line)
        return answer

    def close(self) -> None:
        """End the fork server; it stops the nodes still running."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)


class ForkedNode:
    """A node forked by the fork server, with the part of ``subprocess.Popen`` the kits use."""

    def __init__(self, server: _ForkServer, pid: int, args: list[str]) -> None:
        self.server, self.pid, self.args = server, pid, args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the node has exited (negative: the signal that ended it)."""
        if self.returncode is None:
            code = self.server.ask({"op": "status", "pid": self.pid})["code"]
            self.returncode = None if code is None else int(str(code))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit (``subprocess.TimeoutExpired`` after ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        """Signal the node if it still runs."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


STARTED: list[LiveServer] = []
"""Every node started in this process, in order: a failed test shows the log of those it
started itself too (tests/conftest.py), not only of its fixtures'."""


@dataclass
class LiveServer:
    """A ``liveclass serve`` subprocess on a free port with its own data directory."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | ForkedNode | None = None
    log_path: Path | None = None
    root: Path = ROOT
    """The liveclass tree to run (``bench/fanout.py --root`` compares another one)."""

    @property
    def url(self) -> str:
        """Base HTTP URL of the node."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base WebSocket URL of the node."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90.0) -> LiveServer:
        """Start the node and wait until ``/healthz`` answers.

        Parallel test workers can race for a free port; on "address already in use" the
        node is started again on another port.
        """
        STARTED.append(self)
        for _ in range(3):
            try:
                return self._start(timeout)
            except ServiceUnavailable as exc:
                if "address already in use" not in str(exc).lower():
                    raise
                self.port = free_port()
        return self._start(timeout)

    def _start(self, timeout: float) -> LiveServer:
        env = {**os.environ, "LIVECLASS_DATA_DIR": str(self.data_dir), **self.env}
        env.setdefault("LIVECLASS_LOG_LEVEL", "warning")
        self.log_path = self.data_dir / f"server-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = ["serve", "--port", str(self.port)]
        # A node's own PYTHON* variables (a sitecustomize on PYTHONPATH, say) act when an
        # interpreter starts: such a node gets one of its own.
        forkable = not any(name.startswith("PYTHON") for name in self.env)
        if FORK_NODES and forkable and self.root == ROOT:
            forks = _ForkServer.get()
            request = {"op": "start", "argv": argv, "env": env, "cwd": str(self.root)}
            pid = forks.ask({**request, "log": str(self.log_path)})["pid"]
            self.process = ForkedNode(forks, int(str(pid)), argv)
        else:
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", *argv],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        try:
            wait_for(self._healthy, timeout=timeout, what=f"liveclass on port {self.port}")
        except ServiceUnavailable:
            self.stop()
            raise ServiceUnavailable(f"liveclass did not start:\n{self.log()}") from None
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise ServiceUnavailable(f"liveclass exited early:\n{self.log()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        """What the node printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, *, timeout: float = 15.0) -> int | None:
        """Send ``sig`` and wait for exit (SIGKILL after ``timeout``); return the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to flush or clean up."""
        self.stop(signal.SIGKILL)


# ------------------------------------------------------------------ PostgreSQL


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port, or a shared server."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    data_dir: Path | None = None
    owned: bool = False
    template: str | None = None
    """The migrated template database ``create_database(migrated=True)`` copies."""

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, *, migrated: bool = False) -> str:
        """Create a fresh, uniquely named database and return its URL; ``migrated``: a copy
        of a template migrated once per server (a node then starts without migrating)."""
        name = f"liveclass_test_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self._migrated_template()}"' if migrated else ""
        self._psql(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def _migrated_template(self) -> str:
        if self.template is None:
            name = f"liveclass_template_{uuid.uuid4().hex[:12]}"
            self._psql(f'CREATE DATABASE "{name}"')
            migrate_database({"LIVECLASS_DATABASE_URL": self.url(name)})
            self.template = name
        return self.template

    def drop_database(self, url: str) -> None:
        """Drop a database made by ``create_database`` (ignoring failures)."""
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(subprocess.CalledProcessError):
            self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _psql(self, sql: str) -> None:
        psql = _pg_bin("psql") or "psql"
        subprocess.run(
            [
                psql,
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                sql,
            ],
            check=True,
            capture_output=True,
        )

    def restart(self, down_for: float = 1.0) -> None:
        """Crash an owned cluster (immediate shutdown: no checkpoint, every connection cut)
        and start it again on the same port after ``down_for`` seconds."""
        assert self.owned and self.data_dir is not None, "only a cluster of our own restarts"
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl is not None
        _as_postgres([pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
        time.sleep(down_for)
        _pg_ctl_start(pg_ctl, self.data_dir, self.port)

    def stop(self) -> None:
        """Stop and delete an owned cluster (on a shared server, drop the template)."""
        if not self.owned or self.data_dir is None:
            if self.template is not None:
                self.drop_database(self.url(self.template))
            return
        pg_ctl = _pg_bin("pg_ctl")
        if pg_ctl:
            _as_postgres([pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _as_postgres(command: list[str], *, check: bool = True) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=check, capture_output=True)


def start_postgres() -> PostgresServer:
    """Start a private cluster; fall back to ``LIVECLASS_TEST_POSTGRES`` or 127.0.0.1:5432."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb and pg_ctl:
        try:
            return _start_private_postgres(initdb, pg_ctl)
        except (subprocess.CalledProcessError, ServiceUnavailable, OSError):
            pass
    shared = os.environ.get("LIVECLASS_TEST_POSTGRES", "127.0.0.1:5432")
    host, _, port = shared.partition(":")
    server = PostgresServer(host=host, port=int(port or 5432))
    try:
        server._psql("SELECT 1")
    except (subprocess.CalledProcessError, OSError) as exc:
        raise ServiceUnavailable(f"no PostgreSQL: could not start one nor reach {shared}") from exc
    return server


def _start_private_postgres(initdb: str, pg_ctl: str) -> PostgresServer:
    base = Path(tempfile.mkdtemp(prefix="liveclass-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        base.chmod(0o755)
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    _as_postgres(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
    )
    _pg_ctl_start(pg_ctl, data, port)
    return PostgresServer(port=port, data_dir=data, owned=True)


def _pg_ctl_start(pg_ctl: str, data: Path, port: int) -> None:
    base = data.parent
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    )
    _as_postgres(
        [pg_ctl, "-D", str(data), "-o", options, "-w", "-t", "60", "-l", str(base / "log"), "start"]
    )


@contextlib.contextmanager
def postgres_database(server: PostgresServer, *, migrated: bool = False) -> Iterator[str]:
    """A fresh database on ``server`` for the duration of the block (``migrated``: a copy of
    the server's migrated template)."""
    url = server.create_database(migrated=migrated)
    try:
        yield url
    finally:
        server.drop_database(url)


def migrate_database(env: Mapping[str, str]) -> None:
    """``liveclass migrate`` with ``env`` (a database URL or a data directory)."""
    with tempfile.TemporaryDirectory(prefix="liveclass-migrate-") as scratch:
        subprocess.run(
            [sys.executable, "-m", "server", "migrate"],
            cwd=ROOT,
            env={**os.environ, "LIVECLASS_DATA_DIR": scratch, **env},
            check=True,
            capture_output=True,
        )


_SQLITE_TEMPLATE: list[Path] = []


def copy_migrated_sqlite(database: Path) -> None:
    """Put a migrated SQLite database at ``database`` (owner-only), from a template migrated
    once per process: starting a node then skips the migrations (seconds per node)."""
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="liveclass-template-"))
        migrate_database({"LIVECLASS_DATA_DIR": str(folder)})
        _SQLITE_TEMPLATE.append(folder / "liveclass.db")
        atexit.register(shutil.rmtree, folder, True)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # a node's own database: it migrates it itself
    with (
        contextlib.closing(sqlite3.connect(_SQLITE_TEMPLATE[0])) as source,
        contextlib.closing(sqlite3.connect(database)) as target,
    ):
        source.backup(target)


def merged_env(*parts: Mapping[str, str]) -> dict[str, str]:
    """Merge environment fragments, later ones winning."""
    merged: dict[str, str] = {}
    for part in parts:
        merged.update(part)
    return merged
